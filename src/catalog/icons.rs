//! The icon a build publishes: its own, else the app's configured one, else a placeholder drawn
//! once per app.

use std::path::Path;
use std::sync::Arc;

use crate::diag::Diagnostic;
use crate::ipa::icon::placeholder;
use crate::ipa::{BundleIcon, IconSet};

/// Chooses the icons of one app's builds, drawing its placeholder at most once.
pub struct IconChoice<'a> {
    bundle_id: &'a str,
    app_name: &'a str,
    configured: Option<&'a Arc<IconSet>>,
    placeholder: Option<Result<Arc<IconSet>, String>>,
}

impl<'a> IconChoice<'a> {
    pub fn new(
        bundle_id: &'a str,
        app_name: &'a str,
        configured: Option<&'a Arc<IconSet>>,
    ) -> Self {
        IconChoice {
            bundle_id,
            app_name,
            configured,
            placeholder: None,
        }
    }

    /// The icons of the IPA at `file` whose bundle icon is `icon`; a fallback is reported in
    /// `problems` (a warning, or an error when not even a placeholder can be drawn).
    pub fn choose(
        &mut self,
        file: &Path,
        icon: BundleIcon,
        problems: &mut Vec<Diagnostic>,
    ) -> Option<Arc<IconSet>> {
        let fallback_why = match icon {
            BundleIcon::Found { icons, .. } => return Some(Arc::new(icons)),
            BundleIcon::Missing => {
                "has no loose icon PNG (its icon lives only in Assets.car)".to_string()
            }
            BundleIcon::Unreadable { why } => format!("has an icon that cannot be read ({why})"),
        };
        if let Some(icons) = self.configured {
            return Some(Arc::clone(icons));
        }
        problems.push(Diagnostic::warning(
            file.to_path_buf(),
            format!(
                "{fallback_why}: pages and manifest use a placeholder; set `apps.{}.icon` in relsite.yaml to a PNG",
                self.bundle_id
            ),
        ));
        let (bundle_id, app_name) = (self.bundle_id, self.app_name);
        let drawn = self.placeholder.get_or_insert_with(|| {
            placeholder(bundle_id, app_name)
                .map(Arc::new)
                .map_err(|e| e.to_string())
        });
        match drawn {
            Ok(icons) => Some(Arc::clone(icons)),
            Err(e) => {
                problems.push(Diagnostic::error(
                    file.to_path_buf(),
                    format!("cannot draw a placeholder icon: {e}"),
                ));
                None
            }
        }
    }
}

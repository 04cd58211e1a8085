//! The icon a build publishes: its own, else the app's configured one, else a placeholder drawn
//! from the app's name and bundle identifier. Every icon comes from the icon store, so each is
//! rendered once however many builds show it.

use std::path::Path;
use std::sync::Arc;

use crate::diag::Diagnostic;
use crate::icons::{IconStore, key_of};
use crate::ipa::icon::placeholder;
use crate::ipa::{BundleIcon, IconSet};

/// Chooses the icons of one app's builds.
pub struct IconChoice<'a> {
    store: &'a IconStore,
    bundle_id: &'a str,
    app_name: &'a str,
    configured: Option<&'a Arc<IconSet>>,
}

impl<'a> IconChoice<'a> {
    pub fn new(
        store: &'a IconStore,
        bundle_id: &'a str,
        app_name: &'a str,
        configured: Option<&'a Arc<IconSet>>,
    ) -> Self {
        IconChoice {
            store,
            bundle_id,
            app_name,
            configured,
        }
    }

    /// The icons of the IPA at `file` whose bundle icon is `icon`; a fallback is reported in
    /// `problems` (a warning, or an error when not even a placeholder can be drawn).
    pub fn choose(
        &self,
        file: &Path,
        icon: BundleIcon,
        problems: &mut Vec<Diagnostic>,
    ) -> Option<Arc<IconSet>> {
        let fallback_why = match icon {
            BundleIcon::Found { key, entry, .. } => match self.store.get(&key) {
                Some(icons) => return Some(icons),
                None => format!("has an icon `{entry}` that was not rendered"),
            },
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
        let key = key_of(format!("placeholder\n{}\n{}", self.bundle_id, self.app_name).as_bytes());
        let drawn = self
            .store
            .get_or_render(&key, || placeholder(self.bundle_id, self.app_name));
        match drawn {
            Ok(icons) => Some(icons),
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

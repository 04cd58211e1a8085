//! Site themes: files under themes/<name>/ override the built-in theme one by one.

use std::path::Path;

use crate::errors::fails_keeping_output;
use crate::hostile::sparse;
use crate::ipa_builder::IpaBuilder;
use crate::support::*;

fn site_with_theme(name: &str) -> TestSite {
    let site = TestSite::new();
    site.config(&format!("title: T\nbase_url: {BASE_URL}\ntheme: {name}\n"));
    site.ipa(
        "releases/a/A.ipa",
        &IpaBuilder::new("A", "com.acme.a", "1.0", "1").signed(),
    );
    site
}

#[test]
fn a_theme_overrides_templates_and_static_files_one_by_one() {
    let site = site_with_theme("brand");
    site.file(
        "themes/brand/templates/partials/build-row.html",
        b"<li class=\"brand-row\">{{ b.version }}</li>\n",
    )
    .file(
        "themes/brand/static/assets/relsite.css",
        b"body { color: rebeccapurple; }\n",
    )
    .file("themes/brand/static/assets/logo.svg", b"<svg/>\n");
    site.build().assert_ok();
    assert!(
        site.read("public/com.acme.a/index.html")
            .contains("<li class=\"brand-row\">1.0</li>")
    );
    assert_eq!(
        site.read("public/assets/relsite.css"),
        "body { color: rebeccapurple; }\n"
    );
    assert_eq!(site.read("public/assets/logo.svg"), "<svg/>\n");
    assert!(
        site.read("public/com.acme.a/1.0-1/index.html")
            .contains("class=\"install-button\""),
        "built-in build page"
    );
}

#[test]
fn an_ejected_theme_renders_exactly_like_the_built_in_one() {
    let site = site_with_theme("custom");
    site.config(&format!("title: T\nbase_url: {BASE_URL}\n"));
    site.build().assert_ok();
    let built_in = site.tree("public");
    let run = site.run(&["theme", "eject"]);
    run.assert_ok();
    assert!(run.stdout.contains("set `theme: custom`"), "{}", run.stdout);
    assert!(site.path("themes/custom/templates/build.html").is_file());
    assert!(
        site.path("themes/custom/static/assets/relsite.css")
            .is_file()
    );
    site.config(&format!("title: T\nbase_url: {BASE_URL}\ntheme: custom\n"));
    site.build().assert_ok();
    assert_eq!(built_in, site.tree("public"));
}

#[test]
fn eject_does_not_overwrite_without_force() {
    let site = site_with_theme("custom");
    site.file("themes/custom/templates/build.html", b"mine");
    site.run(&["theme", "eject"])
        .assert_fails_with("would overwrite themes/custom/templates/build.html");
    assert_eq!(site.read("themes/custom/templates/build.html"), "mine");
    site.run(&["theme", "eject", "--force"]).assert_ok();
    assert_ne!(site.read("themes/custom/templates/build.html"), "mine");
}

#[test]
fn a_template_error_names_template_line_and_column_once() {
    let site = site_with_theme("brand");
    site.ipa(
        "releases/b/A.ipa",
        &IpaBuilder::new("A", "com.acme.a", "2.0", "2"),
    );
    site.file(
        "themes/brand/templates/build.html",
        b"{% extends \"base.html\" %}\n{% block content %}\n<p>{{ build.title }}</p>\n<p>{{ build.nope }}</p>\n{% endblock content %}\n",
    );
    let check = site.run(&["check"]);
    check.assert_fails_with("themes/brand/templates/build.html:4:13: error: while rendering");
    let run = site.build();
    run.assert_fails_with("themes/brand/templates/build.html:4:13: error: while rendering");
    assert_eq!(run.lines_with("build.nope").len(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("Field `nope` is not defined"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_template_syntax_error_names_its_line() {
    let site = site_with_theme("brand");
    site.file(
        "themes/brand/templates/app.html",
        b"{% extends \"base.html\" %}\n{% block content %}\n{% if %}\n{% endblock content %}\n",
    );
    site.build()
        .assert_fails_with("themes/brand/templates/app.html:3:7: error:");
}

#[test]
fn a_missing_theme_is_an_error() {
    let site = site_with_theme("nope");
    site.build().assert_fails_with(
        "relsite.yaml: error: theme `nope` not found: expected a folder themes/nope",
    );
}

/// A site that built, given the theme `brand` (a template of its own) and then `break_it`: the
/// build must fail with `line`, within the bounds of a hostile run, leaving the output as it was.
#[track_caller]
fn breaking_theme(break_it: impl FnOnce(&TestSite), line: &str) -> Run {
    fails_keeping_output(
        |s| {
            s.config(&format!("title: T\nbase_url: {BASE_URL}\ntheme: brand\n"));
            break_it(s);
        },
        line,
    )
}

/// A folder outside any site holding a theme `brand` that would build: a template and a static
/// file of its own.
fn theme_outside() -> tempfile::TempDir {
    let outside = tempfile::tempdir().expect("temp dir");
    for (path, bytes) in [
        ("brand/templates/404.html", &b"outside"[..]),
        ("brand/static/assets/outside.css", b"body {}"),
    ] {
        let path = outside.path().join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, bytes).expect("write");
    }
    outside
}

#[test]
fn a_themes_folder_that_leads_outside_the_site() {
    let outside = theme_outside();
    breaking_theme(
        |s| {
            s.symlink("themes", outside.path());
        },
        "themes/brand: error: failed to read",
    )
    .assert_mentions(&["it leads outside the site folder"]);
}

#[test]
fn a_theme_that_leads_outside_the_site() {
    let outside = theme_outside();
    breaking_theme(
        |s| {
            s.symlink("themes/brand", &outside.path().join("brand"));
        },
        "themes/brand: error: failed to read",
    )
    .assert_mentions(&["it leads outside the site folder"]);
}

#[test]
fn a_theme_folder_of_templates_or_static_files_that_leads_outside_the_site() {
    let outside = theme_outside();
    let run = breaking_theme(
        |s| {
            s.symlink(
                "themes/brand/templates",
                &outside.path().join("brand/templates"),
            );
            s.symlink("themes/brand/static", &outside.path().join("brand/static"));
        },
        "themes/brand/templates: error: failed to read",
    );
    run.assert_mentions(&[
        "themes/brand/static: error: failed to read",
        "it leads outside the site folder",
    ]);
}

#[test]
fn a_template_that_is_a_symlink_to_etc_passwd() {
    let run = breaking_theme(
        |s| {
            s.symlink("themes/brand/templates/404.html", Path::new("/etc/passwd"));
        },
        "themes/brand/templates/404.html: error: failed to read",
    );
    run.assert_mentions(&["it leads outside the site folder, to `/etc/passwd`"]);
    assert!(!run.stderr.contains("root:"), "{}", run.stderr);
}

#[test]
fn a_template_or_static_file_that_leads_outside_the_site() {
    let outside = theme_outside();
    let run = breaking_theme(
        |s| {
            s.symlink(
                "themes/brand/templates/404.html",
                &outside.path().join("brand/templates/404.html"),
            );
            s.symlink(
                "themes/brand/static/assets/outside.css",
                &outside.path().join("brand/static/assets/outside.css"),
            );
        },
        "themes/brand/templates/404.html: error: failed to read",
    );
    run.assert_mentions(&["themes/brand/static/assets/outside.css: error: failed to read"]);
    assert_eq!(
        run.lines_with("it leads outside the site folder").len(),
        2,
        "{}",
        run.stderr
    );
}

#[test]
fn a_static_file_that_is_a_symlink_to_dev_zero() {
    breaking_theme(
        |s| {
            s.symlink(
                "themes/brand/static/assets/zero.css",
                Path::new("/dev/zero"),
            );
        },
        "themes/brand/static/assets/zero.css: error: failed to read",
    )
    .assert_mentions(&["it leads outside the site folder, to `/dev/zero`"]);
}

#[test]
fn a_template_or_static_file_that_is_a_fifo() {
    let run = breaking_theme(
        |s| {
            s.fifo("themes/brand/templates/404.html");
            s.fifo("themes/brand/static/assets/pipe.css");
        },
        "themes/brand/templates/404.html: error: failed to read",
    );
    run.assert_mentions(&["themes/brand/static/assets/pipe.css: error: failed to read"]);
    assert_eq!(
        run.lines_with("it is a named pipe (FIFO), not a regular file")
            .len(),
        2,
        "{}",
        run.stderr
    );
}

#[test]
fn a_template_one_byte_over_its_limit() {
    breaking_theme(
        |s| {
            s.file(
                "themes/brand/templates/404.html",
                &vec![b'x'; (1 << 20) + 1],
            );
        },
        "themes/brand/templates/404.html: error: failed to read",
    )
    .assert_mentions(&["it is larger than 1048576 bytes, the most relsite reads of a template"]);
}

#[test]
fn a_static_file_of_gigabytes() {
    breaking_theme(
        |s| sparse(&s.path("themes/brand/static/assets/big.css"), 2 << 30),
        "themes/brand/static/assets/big.css: error: failed to read",
    )
    .assert_mentions(&[
        "it is larger than 16777216 bytes, the most relsite reads of a static file of a theme",
    ]);
}

#[test]
fn a_static_file_one_byte_over_its_limit() {
    breaking_theme(
        |s| {
            sparse(
                &s.path("themes/brand/static/assets/big.bin"),
                (16 << 20) + 1,
            )
        },
        "themes/brand/static/assets/big.bin: error: failed to read",
    )
    .assert_mentions(&[
        "it is larger than 16777216 bytes, the most relsite reads of a static file of a theme",
    ]);
}

#[test]
fn static_files_that_together_pass_the_theme_limit() {
    let run = breaking_theme(
        |s| {
            for n in 0..5 {
                sparse(
                    &s.path(&format!("themes/brand/static/assets/{n}.bin")),
                    15 << 20,
                );
            }
        },
        "themes/brand/static/assets/4.bin: error: with it, the theme's files hold more than 67108864 bytes, the most relsite reads of a theme (themes/brand)",
    );
    assert_eq!(run.lines_with(": error:").len(), 1, "{}", run.stderr);
}

#[test]
fn symlinks_that_stay_inside_the_site_are_followed() {
    let site = site_with_theme("brand");
    site.file("shared/brand/templates/404.html", b"shared 404\n")
        .file(
            "shared/row.html",
            b"<li class=\"shared-row\">{{ b.version }}</li>\n",
        )
        .file("shared/logo.svg", b"<svg/>\n");
    site.symlink("themes/brand", &site.path("shared/brand"));
    site.symlink(
        "shared/brand/templates/partials/build-row.html",
        &site.path("shared/row.html"),
    );
    site.symlink(
        "shared/brand/static/assets/logo.svg",
        &site.path("shared/logo.svg"),
    );
    site.run_bounded(&["build"]).assert_ok();
    assert_eq!(site.read("public/404.html"), "shared 404\n");
    assert!(
        site.read("public/com.acme.a/index.html")
            .contains("<li class=\"shared-row\">1.0</li>")
    );
    assert_eq!(site.read("public/assets/logo.svg"), "<svg/>\n");
}

#[test]
fn a_linked_folder_inside_a_theme_is_not_followed() {
    let outside = theme_outside();
    let site = site_with_theme("brand");
    site.file("themes/brand/static/assets/logo.svg", b"<svg/>\n");
    site.symlink(
        "themes/brand/static/assets/outside",
        &outside.path().join("brand/static/assets"),
    );
    site.run_bounded(&["build"]).assert_ok();
    assert_eq!(site.read("public/assets/logo.svg"), "<svg/>\n");
    assert!(!site.path("public/assets/outside").exists());
}

#[test]
fn a_theme_edit_rewrites_only_the_pages_whose_bytes_change() {
    let site = site_with_theme("custom");
    site.run(&["theme", "eject"]).assert_ok();
    site.build().assert_ok();
    let before = identities(&site.path("public"));
    // A comment in a template changes every page's fingerprint (the theme's), none of their
    // bytes: the catalog page, written as it renders, is kept like the others.
    let template = "themes/custom/templates/build.html";
    let text = site.read(template);
    site.file(template, format!("{{# edited #}}{text}").as_bytes());
    let run = site.run(&["build", "-v"]);
    run.assert_ok();
    assert!(run.stderr.contains("wrote 0 files"), "{}", run.stderr);
    assert_eq!(before, identities(&site.path("public")));
}

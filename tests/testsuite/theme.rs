//! Site themes: files under themes/<name>/ override the built-in theme one by one.

use crate::ipa_builder::IpaBuilder;
use crate::support::*;

fn site_with_theme(name: &str) -> TestSite {
    let site = TestSite::new();
    site.config(&format!("title: T\nbase_url: {BASE_URL}\ntheme: {name}\n"));
    site.ipa(
        "releases/a/A.ipa",
        &IpaBuilder::new("A", "com.acme.a", "1.0", "1"),
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

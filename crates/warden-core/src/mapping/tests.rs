use super::*;

#[test]
fn presets_parse_and_are_well_shaped() {
    for name in PRESETS {
        let m = Mapping::preset(name).unwrap_or_else(|| panic!("preset {name}"));
        assert_eq!(m.check_shape(), vec![], "{name}");
        assert!(
            m.columns()
                .iter()
                .all(|c| !c.table.is_empty() && !c.column.is_empty())
        );
    }
    assert!(Mapping::preset("nope").is_none());
}

#[test]
fn django_preset_keys_permissions_by_app_label() {
    let m = Mapping::preset("django").unwrap();
    let prefix = m.permissions.key_prefix.unwrap();
    assert_eq!(prefix.table, "django_content_type");
    assert_eq!(prefix.column, "app_label");
    assert_eq!(prefix.separator, ".");
    assert_eq!(m.users.active.as_deref(), Some("is_active"));
    assert!(m.semantics.superuser_has_all_permissions);
}

#[test]
fn injection_in_identifiers_is_a_shape_problem() {
    let mut m = Mapping::preset("reference").unwrap();
    m.users.table = "staff_users`; DROP TABLE roles; --".into();
    m.users.last_login = Some("last_login) OR 1=1 --".into());
    let problems = m.check_shape();
    assert!(
        problems
            .iter()
            .any(|p| p.field == "users.id" && p.column.is_none())
    );
    assert!(problems.iter().any(|p| p.field == "users.last_login"));
}

#[test]
fn parse_errors_name_line_and_column() {
    let err = Mapping::from_toml("[users]\ntable = \"u\"\nid = 3\n").unwrap_err();
    let text = err.to_string();
    assert!(text.contains("line 3"), "{text}");
}

#[test]
fn unknown_keys_are_refused() {
    let mut text = include_str!("../presets/reference.toml").to_string();
    text.push_str("\n[colour]\nred = 1\n");
    let err = Mapping::from_toml(&text).unwrap_err().to_string();
    assert!(err.contains("colour"), "{err}");
}

#[test]
fn column_kinds_match_mysql_types() {
    assert!(ColumnKind::Id.accepts("bigint"));
    assert!(!ColumnKind::Id.accepts("varchar"));
    assert!(ColumnKind::Time.accepts("TIMESTAMP"));
    assert!(ColumnKind::Flag.accepts("tinyint"));
    assert!(ColumnKind::Text.accepts("json"));
}

#[test]
fn a_scope_names_where_a_grant_holds_and_is_checked_like_every_column() {
    let teams = Mapping::preset("laravel-permission-teams").unwrap();
    assert_eq!(teams.user_roles.scope, ["team_id"]);
    assert_eq!(teams.user_permissions.unwrap().scope, ["team_id"]);
    let mut m = Mapping::preset("reference").unwrap();
    m.user_roles.scope = vec![
        "team_id".into(),
        "user_id".into(),
        "team_id".into(),
        "a".into(),
        "b`; DROP".into(),
    ];
    let problems = m.check_shape();
    let said: Vec<(&str, &str)> = (problems.iter())
        .map(|p| (p.field.as_str(), p.message.as_str()))
        .collect();
    assert!(
        said.contains(&(
            "user_roles.scope[1]",
            "`user_id` is the grant's own user or role column, not where it holds"
        )),
        "{said:?}"
    );
    assert!(said.contains(&("user_roles.scope[2]", "`team_id` is named twice")));
    assert!(said.iter().any(|(f, m)| *f == "user_roles.scope[4]"
        && (m.contains("too many") || m.contains("column name"))));
    assert!(
        m.columns()
            .iter()
            .any(|c| c.field == "user_roles.scope[0]" && c.column == "team_id"),
        "scope columns are checked against the database like every mapped column"
    );
}

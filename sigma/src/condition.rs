//! Sigma's condition language: `and`, `or`, `not`, parentheses, and `1 of` / `all of` a name
//! pattern (`selection_*`) or `them`. Keywords are case-insensitive, as the specification says.

use nom::branch::alt;
use nom::bytes::complete::{tag, tag_no_case, take_while1};
use nom::character::complete::multispace0;
use nom::combinator::{all_consuming, map, opt, value};
use nom::multi::many0;
use nom::sequence::{delimited, preceded, terminated};
use nom::{IResult, Parser};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    Search(String),
    Not(Box<Condition>),
    And(Vec<Condition>),
    Or(Vec<Condition>),
    /// `1 of pattern` (`all: false`) or `all of pattern`; `them` is the pattern `*`.
    Of {
        all: bool,
        pattern: String,
    },
}

impl Condition {
    /// The condition with every search name (and `of` pattern) prefixed: a filter's searches
    /// joined to a rule's keep apart from the rule's own.
    pub fn prefixed(&self, prefix: &str) -> Condition {
        match self {
            Condition::Search(n) => Condition::Search(format!("{prefix}{n}")),
            Condition::Not(inner) => Condition::Not(Box::new(inner.prefixed(prefix))),
            Condition::And(items) => Condition::And(items.iter().map(|i| i.prefixed(prefix)).collect()),
            Condition::Or(items) => Condition::Or(items.iter().map(|i| i.prefixed(prefix)).collect()),
            Condition::Of { all, pattern } => Condition::Of { all: *all, pattern: format!("{prefix}{pattern}") },
        }
    }
}

/// The condition as Sigma writes it, parenthesized so that it parses back to itself.
impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let join = |f: &mut std::fmt::Formatter<'_>, items: &[Condition], op: &str| {
            write!(f, "(")?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    write!(f, " {op} ")?;
                }
                write!(f, "{item}")?;
            }
            write!(f, ")")
        };
        match self {
            Condition::Search(n) => write!(f, "{n}"),
            Condition::Not(inner) => write!(f, "not {inner}"),
            Condition::And(items) => join(f, items, "and"),
            Condition::Or(items) => join(f, items, "or"),
            Condition::Of { all, pattern } => {
                let quantifier = if *all { "all" } else { "1" };
                if pattern == "*" { write!(f, "{quantifier} of them") } else { write!(f, "{quantifier} of {pattern}") }
            }
        }
    }
}

/// Parses a condition.
pub fn parse(text: &str) -> Result<Condition, String> {
    match all_consuming(delimited(multispace0, or, multispace0)).parse(text) {
        Ok((_, c)) => Ok(c),
        Err(_) => Err(format!("the condition `{text}` does not parse")),
    }
}

fn ws<'a, O>(
    p: impl Parser<&'a str, Output = O, Error = nom::error::Error<&'a str>>,
) -> impl Parser<&'a str, Output = O, Error = nom::error::Error<&'a str>> {
    delimited(multispace0, p, multispace0)
}

/// A keyword that is not the start of a longer name (`order` is not `or`).
fn keyword<'a>(word: &'static str) -> impl Parser<&'a str, Output = &'a str, Error = nom::error::Error<&'a str>> {
    ws(terminated(tag_no_case(word), nom::combinator::not(nom::character::complete::satisfy(is_name_char))))
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '*' | '-' | '.')
}

fn or(i: &str) -> IResult<&str, Condition> {
    let (i, first) = and(i)?;
    let (i, rest) = many0(preceded(keyword("or"), and)).parse(i)?;
    Ok((i, if rest.is_empty() { first } else { Condition::Or(std::iter::once(first).chain(rest).collect()) }))
}

fn and(i: &str) -> IResult<&str, Condition> {
    let (i, first) = not(i)?;
    let (i, rest) = many0(preceded(keyword("and"), not)).parse(i)?;
    Ok((i, if rest.is_empty() { first } else { Condition::And(std::iter::once(first).chain(rest).collect()) }))
}

fn not(i: &str) -> IResult<&str, Condition> {
    alt((map(preceded(keyword("not"), not), |c| Condition::Not(Box::new(c))), primary)).parse(i)
}

fn primary(i: &str) -> IResult<&str, Condition> {
    alt((delimited(ws(tag("(")), or, ws(tag(")"))), of, map(ws(name), |n| Condition::Search(n.to_string())))).parse(i)
}

fn of(i: &str) -> IResult<&str, Condition> {
    let quantifier = alt((value(false, keyword("1")), value(false, keyword("any")), value(true, keyword("all"))));
    let (i, all) = terminated(quantifier, keyword("of")).parse(i)?;
    let (i, them) = opt(keyword("them")).parse(i)?;
    if them.is_some() {
        return Ok((i, Condition::Of { all, pattern: "*".into() }));
    }
    let (i, pattern) = ws(name).parse(i)?;
    Ok((i, Condition::Of { all, pattern: pattern.to_string() }))
}

fn name(i: &str) -> IResult<&str, &str> {
    take_while1(is_name_char)(i)
}

/// Whether a search name matches an `of` pattern (`*` any run of characters).
pub fn pattern_matches(pattern: &str, name: &str) -> bool {
    if pattern == "*" {
        // `them` leaves out searches whose names start with an underscore, as the specification says.
        return !name.starts_with('_');
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let mut rest = name;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else { return false };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(at) = rest.find(part) else { return false };
            rest = &rest[at + part.len()..];
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use Condition::*;

    fn s(n: &str) -> Condition {
        Search(n.into())
    }

    #[test]
    fn precedence_is_not_then_and_then_or() {
        assert_eq!(parse("a or b and not c").unwrap(), Or(vec![s("a"), And(vec![s("b"), Not(Box::new(s("c")))])]));
        assert_eq!(parse("(a or b) and c").unwrap(), And(vec![Or(vec![s("a"), s("b")]), s("c")]));
    }

    #[test]
    fn quantifiers_and_them() {
        assert_eq!(
            parse("1 of selection_* and not all of filter*").unwrap(),
            And(vec![
                Of { all: false, pattern: "selection_*".into() },
                Not(Box::new(Of { all: true, pattern: "filter*".into() }))
            ])
        );
        assert_eq!(parse("all of them").unwrap(), Of { all: true, pattern: "*".into() });
        assert_eq!(parse("Selection AND NOT Filter").unwrap(), And(vec![s("Selection"), Not(Box::new(s("Filter")))]));
        assert_eq!(parse("order or andrew").unwrap(), Or(vec![s("order"), s("andrew")]));
        assert!(parse("a and").is_err());
        assert!(parse("selection | count() > 5").is_err());
    }

    #[test]
    fn prints_what_parses_back_and_prefixes_names() {
        for text in ["a or b and not c", "1 of sel_* and not all of them", "not (a or b)"] {
            let c = parse(text).unwrap();
            assert_eq!(parse(&c.to_string()).unwrap(), c, "{c}");
        }
        assert_eq!(parse("sel and not 1 of f*").unwrap().prefixed("x_").to_string(), "(x_sel and not 1 of x_f*)");
    }

    #[test]
    fn patterns() {
        assert!(pattern_matches("selection_*", "selection_img"));
        assert!(!pattern_matches("selection_*", "filter_img"));
        assert!(pattern_matches("*", "sel"));
        assert!(!pattern_matches("*", "_private"));
        assert!(pattern_matches("sel*img", "sel_x_img"));
    }
}

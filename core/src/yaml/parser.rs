//! A YAML parser for configuration files and manifests, to JSON values:
//! block mappings and sequences, flow collections, plain, single- and
//! double-quoted scalars, literal and folded block scalars, comments and
//! multi-document streams. Anchors, aliases, tags and complex keys are
//! refused with an error that names them. Errors give a line and what was
//! wrong there, never the text found there.

use serde_json::{Map, Value};

/// How plain scalars (unquoted) are typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Typing {
    /// YAML 1.2's core schema: null, booleans, integers and floats; the
    /// rest are strings (manifests).
    Core,
    /// Null and booleans only; numbers stay strings (a kubeconfig, whose
    /// values are names, addresses and arguments).
    Strings,
}

/// A parse error: where, and what (never the input's text).
pub(crate) type Error = String;

fn at(line: usize, what: &str) -> Error {
    format!("line {}: {what}", line + 1)
}

/// One line: its number, indentation and text after the indentation.
#[derive(Clone, Debug)]
struct Line<'a> {
    number: usize,
    indent: usize,
    text: &'a str,
}

/// Splits a stream into documents and parses each.
pub(crate) fn documents(text: &str, typing: Typing) -> Result<Vec<Value>, Error> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut docs = Vec::new();
    let mut current: Vec<Line<'_>> = Vec::new();
    let mut started = false;
    for (number, raw) in text.lines().enumerate() {
        let trimmed = raw.trim_end();
        if trimmed.starts_with("%") && current.is_empty() {
            continue; // a directive (%YAML, %TAG)
        }
        let marker =
            |m: &str| trimmed == m || trimmed.strip_prefix(m).is_some_and(|r| r.starts_with(" #"));
        if marker("---") || marker("...") {
            if started || !current.is_empty() {
                docs.push(Parser::new(std::mem::take(&mut current), typing).document()?);
            }
            started = marker("---");
            continue;
        }
        if trimmed.starts_with("--- ") {
            return Err(at(
                number,
                "content after a document marker is not supported",
            ));
        }
        let indent = raw.len() - raw.trim_start_matches(' ').len();
        if raw[indent..].starts_with('\t') && !raw[indent..].trim().is_empty() {
            return Err(at(number, "a tab in indentation"));
        }
        current.push(Line {
            number,
            indent,
            text: &raw[indent..],
        });
    }
    if started || current.iter().any(|l| !is_blank(l.text)) {
        docs.push(Parser::new(current, typing).document()?);
    }
    Ok(docs)
}

fn is_blank(text: &str) -> bool {
    let t = text.trim();
    t.is_empty() || t.starts_with('#')
}

struct Parser<'a> {
    lines: Vec<Line<'a>>,
    pos: usize,
    typing: Typing,
}

impl<'a> Parser<'a> {
    fn new(lines: Vec<Line<'a>>, typing: Typing) -> Parser<'a> {
        Parser {
            lines,
            pos: 0,
            typing,
        }
    }

    fn document(mut self) -> Result<Value, Error> {
        let value = match self.next_line() {
            None => Value::Null,
            Some(line) => self.node(line.indent)?,
        };
        if let Some(line) = self.next_line() {
            return Err(at(
                line.number,
                "unexpected content after the document's value",
            ));
        }
        Ok(value)
    }

    /// The next line with content, skipping blank and comment lines.
    fn next_line(&mut self) -> Option<Line<'a>> {
        while let Some(line) = self.lines.get(self.pos) {
            if !is_blank(line.text) {
                return Some(line.clone());
            }
            self.pos += 1;
        }
        None
    }

    /// The node whose first line is the next one (at `indent`).
    fn node(&mut self, indent: usize) -> Result<Value, Error> {
        let Some(line) = self.next_line() else {
            return Ok(Value::Null);
        };
        if is_sequence_entry(line.text) {
            return self.sequence(line.indent);
        }
        if split_key(line.text, line.number).is_some() {
            return self.mapping(line.indent);
        }
        self.pos += 1;
        self.inline(line.text, line.number, indent)
    }

    fn sequence(&mut self, indent: usize) -> Result<Value, Error> {
        let mut items = Vec::new();
        while let Some(line) = self.next_line() {
            if line.indent != indent || !is_sequence_entry(line.text) {
                if line.indent > indent {
                    return Err(at(line.number, "bad indentation in a sequence"));
                }
                break;
            }
            let rest = &line.text[1..];
            let spaces = rest.len() - rest.trim_start_matches(' ').len();
            if is_blank(rest) {
                self.pos += 1;
                items.push(self.child(indent)?);
            } else {
                // The entry's content, as if it were a line of its own.
                self.lines[self.pos] = Line {
                    number: line.number,
                    indent: indent + 1 + spaces,
                    text: &rest[spaces..],
                };
                items.push(self.node(indent + 1 + spaces)?);
            }
        }
        Ok(Value::Array(items))
    }

    /// The value of an entry whose line had nothing after its key or dash:
    /// the more indented lines after it, or null.
    fn child(&mut self, indent: usize) -> Result<Value, Error> {
        match self.next_line() {
            Some(next) if next.indent > indent => self.node(next.indent),
            _ => Ok(Value::Null),
        }
    }

    fn mapping(&mut self, indent: usize) -> Result<Value, Error> {
        let mut map = Map::new();
        while let Some(line) = self.next_line() {
            if line.indent != indent {
                if line.indent > indent {
                    return Err(at(line.number, "bad indentation in a mapping"));
                }
                break;
            }
            let Some((key, rest)) = split_key(line.text, line.number) else {
                if is_sequence_entry(line.text) {
                    break;
                }
                return Err(at(line.number, "expected a `key: value` entry"));
            };
            self.pos += 1;
            let value = if is_blank(rest) {
                match self.next_line() {
                    // A sequence may sit at its key's own indentation.
                    Some(next) if next.indent == indent && is_sequence_entry(next.text) => {
                        self.sequence(indent)?
                    }
                    _ => self.child(indent)?,
                }
            } else {
                self.inline(rest, line.number, indent)?
            };
            if map.insert(key, value).is_some() {
                return Err(at(line.number, "a key given twice in one mapping"));
            }
        }
        Ok(Value::Object(map))
    }

    /// A value written after a key or dash (or alone on its line): a
    /// block scalar, a flow collection or a scalar, which may continue on
    /// the more indented lines after it.
    fn inline(&mut self, text: &'a str, number: usize, indent: usize) -> Result<Value, Error> {
        let text = text.trim();
        match text.as_bytes().first() {
            Some(b'|' | b'>') => return self.block_scalar(text, number, indent),
            Some(b'&' | b'*') => {
                return Err(at(number, "YAML anchors and aliases are not supported"));
            }
            Some(b'!') => return Err(at(number, "YAML tags are not supported")),
            Some(b'?') if text.len() == 1 || text.as_bytes()[1] == b' ' => {
                return Err(at(number, "complex mapping keys are not supported"));
            }
            _ => {}
        }
        // Continuation lines: more indented than the entry, up to the next
        // line at its level.
        let mut joined = strip_comment(text).to_string();
        let quoted = text.starts_with('"') || text.starts_with('\'');
        let flow = text.starts_with('[') || text.starts_with('{');
        while let Some(next) = self.lines.get(self.pos) {
            let blank = next.text.trim().is_empty();
            if !blank && next.indent <= indent {
                break;
            }
            if !quoted && !blank && next.text.trim_start().starts_with('#') {
                self.pos += 1;
                continue;
            }
            if !quoted && !flow && split_key(next.text, next.number).is_some() {
                return Err(at(next.number, "a mapping entry inside a scalar"));
            }
            joined.push('\n');
            joined.push_str(if quoted {
                next.text
            } else {
                strip_comment(next.text)
            });
            self.pos += 1;
        }
        let mut flow_parser = Flow {
            text: &joined,
            at: 0,
            line: number,
            typing: self.typing,
        };
        let value = flow_parser.value(0)?;
        flow_parser.skip_space();
        if flow_parser.at != joined.len() {
            return Err(at(flow_parser.line, "unexpected text after a value"));
        }
        Ok(value)
    }

    fn block_scalar(&mut self, header: &str, number: usize, indent: usize) -> Result<Value, Error> {
        let header = strip_comment(header).trim_end();
        let literal = header.starts_with('|');
        let mut chomp = ' ';
        let mut explicit = None;
        for c in header[1..].chars() {
            match c {
                '-' | '+' if chomp == ' ' => chomp = c,
                '1'..='9' if explicit.is_none() => explicit = c.to_digit(10).map(|d| d as usize),
                _ => return Err(at(number, "a bad block scalar header")),
            }
        }
        let mut body: Vec<String> = Vec::new();
        let mut content_indent = explicit.map(|d| indent + d);
        while let Some(next) = self.lines.get(self.pos) {
            let blank = next.text.trim().is_empty();
            if !blank {
                let need = *content_indent.get_or_insert(next.indent);
                if next.indent < need || next.indent <= indent {
                    break;
                }
                // Kept with its indentation beyond the content's.
                body.push(format!("{}{}", " ".repeat(next.indent - need), next.text));
            } else {
                body.push(String::new());
            }
            self.pos += 1;
        }
        let trailing = body.iter().rev().take_while(|l| l.is_empty()).count();
        let lines = &body[..body.len() - trailing];
        let more = |l: &str| l.starts_with(' ');
        let mut text = String::new();
        let mut last_content = "";
        for (i, line) in lines.iter().enumerate() {
            if i > 0 {
                let prev = lines[i - 1].as_str();
                if literal || line.is_empty() {
                    text.push('\n');
                } else if prev.is_empty() {
                    if more(line) || more(last_content) {
                        text.push('\n');
                    }
                } else if more(line) || more(prev) {
                    text.push('\n');
                } else {
                    text.push(' ');
                }
            }
            text.push_str(line);
            if !line.is_empty() {
                last_content = line;
            }
        }
        match chomp {
            '-' => {}
            '+' => {
                if !lines.is_empty() {
                    text.push('\n');
                }
                text.push_str(&"\n".repeat(trailing));
            }
            _ => {
                if !lines.is_empty() {
                    text.push('\n');
                }
            }
        }
        Ok(Value::String(text))
    }
}

fn is_sequence_entry(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// `key: rest` when `text` is a mapping entry (the key decoded).
fn split_key(text: &str, number: usize) -> Option<(String, &str)> {
    match text.as_bytes().first() {
        None | Some(b'#' | b'[' | b'{' | b'|' | b'>' | b'&' | b'*' | b'!') => return None,
        // A dash starts an entry of a sequence, or a plain key.
        Some(b'-') if is_sequence_entry(text) => return None,
        Some(b'"' | b'\'') => {
            let mut flow = Flow {
                text,
                at: 0,
                line: number,
                typing: Typing::Strings,
            };
            let Ok(Value::String(key)) = flow.quoted() else {
                return None;
            };
            let rest = text[flow.at..].trim_start_matches(' ');
            return rest
                .strip_prefix(':')
                .filter(|r| r.is_empty() || r.starts_with(' '))
                .map(|r| (key, r));
        }
        _ => {}
    }
    let mut search = 0;
    while let Some(i) = text[search..].find(':') {
        let colon = search + i;
        let after = &text[colon + 1..];
        if after.is_empty() || after.starts_with(' ') {
            let key = text[..colon].trim_end();
            if key.contains(" #") {
                return None;
            }
            return Some((key.to_string(), after));
        }
        search = colon + 1;
    }
    None
}

/// A plain scalar's text without its trailing comment.
fn strip_comment(text: &str) -> &str {
    let mut quote = None;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') if i == 0 || text[..i].ends_with([' ', '[', '{', ',']) => {
                quote = Some(c)
            }
            (Some(q), c) if c == q => quote = None,
            (None, '#') if i == 0 || text[..i].ends_with(' ') => return text[..i].trim_end(),
            _ => {}
        }
    }
    text.trim_end()
}

/// Flow values and scalars over one (possibly joined) text.
struct Flow<'t> {
    text: &'t str,
    at: usize,
    line: usize,
    typing: Typing,
}

impl Flow<'_> {
    fn peek(&self) -> Option<char> {
        self.text[self.at..].chars().next()
    }

    fn skip_space(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                ' ' | '\t' => self.at += 1,
                '\n' => {
                    self.at += 1;
                    self.line += 1;
                }
                _ => break,
            }
        }
    }

    /// True (and consumed) when a flow collection's `close` comes next.
    fn closes(&mut self, close: char) -> bool {
        self.skip_space();
        if self.peek() == Some(close) {
            self.at += 1;
            return true;
        }
        false
    }

    /// After an entry of a flow collection: a `,` (consumed) or the
    /// collection's `close` (left for the loop to end on).
    fn after_entry(&mut self, close: char, expected: &str) -> Result<(), Error> {
        self.skip_space();
        match self.peek() {
            Some(',') => {
                self.at += 1;
                Ok(())
            }
            Some(c) if c == close => Ok(()),
            _ => Err(at(self.line, expected)),
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, Error> {
        if depth > 64 {
            return Err(at(self.line, "flow collections nested too deep"));
        }
        self.skip_space();
        match self.peek() {
            Some('[') => {
                self.at += 1;
                let mut items = Vec::new();
                loop {
                    if self.closes(']') {
                        return Ok(Value::Array(items));
                    }
                    items.push(self.value(depth + 1)?);
                    self.after_entry(']', "expected `,` or `]` in a flow sequence")?;
                }
            }
            Some('{') => {
                self.at += 1;
                let mut map = Map::new();
                loop {
                    if self.closes('}') {
                        return Ok(Value::Object(map));
                    }
                    let key = match self.value(depth + 1)? {
                        Value::String(s) => s,
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    self.skip_space();
                    let value = if self.peek() == Some(':') {
                        self.at += 1;
                        self.value(depth + 1)?
                    } else {
                        Value::Null
                    };
                    if map.insert(key, value).is_some() {
                        return Err(at(self.line, "a key given twice in one mapping"));
                    }
                    self.after_entry('}', "expected `,` or `}` in a flow mapping")?;
                }
            }
            Some('"' | '\'') => self.quoted(),
            Some('&' | '*') => Err(at(self.line, "YAML anchors and aliases are not supported")),
            Some('!') => Err(at(self.line, "YAML tags are not supported")),
            _ => self.plain(depth > 0),
        }
    }

    /// A plain scalar; in a flow collection it ends at `,`, `]`, `}` and
    /// `: `.
    fn plain(&mut self, in_flow: bool) -> Result<Value, Error> {
        let rest = &self.text[self.at..];
        let mut end = rest.len();
        for (i, c) in rest.char_indices() {
            let next = rest[i + c.len_utf8()..].chars().next();
            let ends_key = c == ':'
                && next.is_none_or(|n| n == ' ' || n == '\n' || (in_flow && ",]}".contains(n)));
            if ends_key || (in_flow && matches!(c, ',' | ']' | '}')) {
                end = i;
                break;
            }
        }
        let raw = &rest[..end];
        self.line += raw.matches('\n').count();
        self.at += end;
        // Line breaks in a plain scalar fold into spaces.
        let text = raw
            .split('\n')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        Ok(typed(&text, self.typing))
    }

    /// A single- or double-quoted scalar.
    fn quoted(&mut self) -> Result<Value, Error> {
        let quote = self
            .peek()
            .ok_or_else(|| at(self.line, "expected a value"))?;
        let start_line = self.line;
        self.at += 1;
        let mut out = String::new();
        let mut pending_break = false;
        loop {
            let c = self
                .peek()
                .ok_or_else(|| at(start_line, "a quoted string that does not end"))?;
            self.at += c.len_utf8();
            match c {
                '\n' => {
                    // Folding: a line break is a space, an empty line a
                    // newline; leading spaces of the next line go.
                    self.line += 1;
                    while out.ends_with([' ', '\t']) {
                        out.pop();
                    }
                    if pending_break {
                        out.push('\n');
                    }
                    pending_break = true;
                    while let Some(' ' | '\t') = self.peek() {
                        self.at += 1;
                    }
                    continue;
                }
                _ if pending_break => {
                    if !out.ends_with('\n') {
                        out.push(' ');
                    }
                    pending_break = false;
                }
                _ => {}
            }
            if c == quote {
                if quote == '\'' && self.peek() == Some('\'') {
                    self.at += 1;
                    out.push('\'');
                    continue;
                }
                return Ok(Value::String(out));
            }
            if c == '\\' && quote == '"' {
                self.escape(&mut out)?;
                continue;
            }
            out.push(c);
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), Error> {
        let line = self.line;
        let bad = move || at(line, "a bad escape in a double-quoted string");
        let c = self.peek().ok_or_else(bad)?;
        self.at += c.len_utf8();
        let hex = |s: &mut Flow<'_>, n: usize| -> Result<char, Error> {
            let digits = s.text.get(s.at..s.at + n).ok_or_else(bad)?;
            let code = u32::from_str_radix(digits, 16).map_err(|_| bad())?;
            s.at += n;
            char::from_u32(code).ok_or_else(bad)
        };
        let decoded = match c {
            '0' => '\0',
            'a' => '\u{7}',
            'b' => '\u{8}',
            't' | '\t' => '\t',
            'n' => '\n',
            'v' => '\u{b}',
            'f' => '\u{c}',
            'r' => '\r',
            'e' => '\u{1b}',
            ' ' => ' ',
            '"' => '"',
            '/' => '/',
            '\\' => '\\',
            'N' => '\u{85}',
            '_' => '\u{a0}',
            'L' => '\u{2028}',
            'P' => '\u{2029}',
            'x' => hex(self, 2)?,
            'u' => hex(self, 4)?,
            'U' => hex(self, 8)?,
            '\n' => {
                // An escaped line break joins the lines.
                self.line += 1;
                while let Some(' ' | '\t') = self.peek() {
                    self.at += 1;
                }
                return Ok(());
            }
            _ => return Err(bad()),
        };
        out.push(decoded);
        Ok(())
    }
}

/// A plain scalar's value under `typing`.
fn typed(text: &str, typing: Typing) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if typing == Typing::Strings {
        return Value::String(text.to_string());
    }
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let negative = text.starts_with('-');
    let radix = |digits: &str, radix: u32| {
        i64::from_str_radix(digits, radix)
            .ok()
            .map(|n| Value::from(if negative { -n } else { n }))
    };
    let number = if let Some(hex) = unsigned.strip_prefix("0x") {
        radix(hex, 16)
    } else if let Some(oct) = unsigned.strip_prefix("0o") {
        radix(oct, 8)
    } else if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        text.parse::<i64>()
            .map(Value::from)
            .or_else(|_| text.parse::<u64>().map(Value::from))
            .ok()
            .or_else(|| {
                text.parse::<f64>()
                    .ok()
                    .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number))
            })
    } else if is_float(unsigned) {
        text.parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
    } else {
        None
    };
    number.unwrap_or_else(|| Value::String(text.to_string()))
}

/// `1.5`, `.5`, `1.`, `1e3`, `1.5E-3` (the core schema's floats, without
/// the infinities and NaN, which JSON cannot hold).
fn is_float(text: &str) -> bool {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (mantissa, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = digits(whole)
        && fraction.is_none_or(digits)
        && !(whole.is_empty() && fraction.is_none_or(str::is_empty));
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok && (fraction.is_some() || exponent.is_some())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn one(text: &str) -> Value {
        let docs = documents(text, Typing::Core).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(docs.len(), 1, "{text}");
        docs.into_iter().next().unwrap()
    }

    #[test]
    fn reads_what_kubeconfigs_and_manifests_are_written_with() {
        let text = r#"# a comment
apiVersion: v1
kind: ConfigMap   # trailing comment
metadata:
  name: "web # not a comment"
  labels: {app: web, tier: 'front''s'}
  annotations:
    url: https://10.0.0.1:6443/path?x=1#frag
    empty:
    tilde: ~
data:
  script: |
    #!/bin/sh
    echo "hi"

      indented
  folded: >-
    one
    two

    three
  list: [a, "b, c", 3, 1.5, true, null]
  plain: multi
    line plain
spec:
  containers:
  - name: c
    image: nginx:1.25
    args:
      - --flag=1
      - - nested
        - seq
    ports:
    - {containerPort: 80, protocol: TCP}
  -
    name: d
  numbers: [0x1F, 0o17, -3, +4, 1e3, .5, 007]
  strings: ["\u00e9\t\"q\"", 'it''s', "folded
    line"]
"#;
        assert_eq!(
            one(text),
            json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "web # not a comment",
                    "labels": {"app": "web", "tier": "front's"},
                    "annotations": {"url": "https://10.0.0.1:6443/path?x=1#frag", "empty": null, "tilde": null}},
                "data": {"script": "#!/bin/sh\necho \"hi\"\n\n  indented\n", "folded": "one two\nthree",
                    "list": ["a", "b, c", 3, 1.5, true, null], "plain": "multi line plain"},
                "spec": {"containers": [
                    {"name": "c", "image": "nginx:1.25", "args": ["--flag=1", ["nested", "seq"]],
                     "ports": [{"containerPort": 80, "protocol": "TCP"}]},
                    {"name": "d"}],
                  "numbers": [31, 15, -3, 4, 1000.0, 0.5, 7],
                  "strings": ["é\t\"q\"", "it's", "folded line"]}
            })
        );
    }

    #[test]
    fn streams_hold_several_documents() {
        let docs = documents("a: 1\n---\nb: 2\n--- # c\n...\n---\n- x\n", Typing::Core).unwrap();
        assert_eq!(
            docs,
            [json!({"a": 1}), json!({"b": 2}), Value::Null, json!(["x"])]
        );
        assert_eq!(documents("", Typing::Core).unwrap(), Vec::<Value>::new());
    }

    #[test]
    fn configuration_typing_keeps_numbers_as_text() {
        let docs = documents(
            "args: [123, 0x1, yes]\nflag: true\nnone: null\n",
            Typing::Strings,
        );
        assert_eq!(
            docs.unwrap(),
            [json!({"args": ["123", "0x1", "yes"], "flag": true, "none": null})]
        );
    }

    #[test]
    fn block_scalar_chomping() {
        let doc = one("a: |+\n  x\n\nb: |-\n  y\n\nc: >\n  z\n");
        assert_eq!(doc, json!({"a": "x\n\n", "b": "y", "c": "z\n"}));
    }

    #[test]
    fn refusals_name_the_line_and_never_the_text() {
        for (text, line, what) in [
            ("a: &anchor SECRET\n", 1, "anchors"),
            ("a: !!binary SECRET\n", 1, "tags"),
            ("a: 1\na: SECRET\n", 2, "twice"),
            ("a:\n  b: 1\n   c: SECRET\n", 3, "mapping entry"),
            ("a:\n  - 1\n - SECRET\n", 3, "indentation"),
            ("a: [SECRET\n", 1, "flow"),
            ("a: \"SECRET\n", 1, "does not end"),
            ("a:\n\tb: SECRET\n", 2, "tab"),
            ("x: \"\\q SECRET\"\n", 1, "escape"),
        ] {
            let err = documents(text, Typing::Core).unwrap_err();
            assert!(err.starts_with(&format!("line {line}:")), "{text:?}: {err}");
            assert!(err.contains(what), "{text:?}: {err}");
            assert!(!err.contains("SECRET"), "{text:?}: {err}");
        }
    }

    /// Block-style YAML of a JSON value (strings and keys double-quoted as
    /// JSON writes them, which YAML reads alike).
    fn emit(value: &Value, indent: usize, out: &mut String) {
        let pad = " ".repeat(indent);
        match value {
            Value::Object(map) if !map.is_empty() => {
                for (i, (k, v)) in map.iter().enumerate() {
                    out.push_str(&format!("{pad}{}:", Value::from(k.as_str())));
                    match v {
                        Value::Object(m) if !m.is_empty() => {
                            out.push('\n');
                            emit(v, indent + 2, out);
                        }
                        // Sequences alternate between their key's indentation
                        // and a deeper one.
                        Value::Array(a) if !a.is_empty() => {
                            out.push('\n');
                            emit(v, indent + 2 * (i % 2), out);
                        }
                        _ => out.push_str(&format!(" {v}\n")),
                    }
                }
            }
            Value::Array(items) if !items.is_empty() => {
                for item in items {
                    out.push_str(&format!("{pad}-"));
                    match item {
                        Value::Object(m) if !m.is_empty() => {
                            let mut inner = String::new();
                            emit(item, indent + 2, &mut inner);
                            out.push(' ');
                            out.push_str(&inner[indent + 2..]);
                        }
                        Value::Array(a) if !a.is_empty() => {
                            out.push('\n');
                            emit(item, indent + 2, out);
                        }
                        _ => out.push_str(&format!(" {item}\n")),
                    }
                }
            }
            scalar => out.push_str(&format!("{pad}{scalar}\n")),
        }
    }

    /// Every upstream example object, written as block YAML, reads back as
    /// the same JSON.
    #[test]
    #[allow(clippy::disallowed_methods)] // the test reads the fixture corpus
    fn upstream_objects_round_trip_through_block_yaml() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/upstream-objects");
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let value: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            let mut yaml = String::new();
            emit(&value, 0, &mut yaml);
            assert_eq!(one(&yaml), value, "{}", path.display());
            checked += 1;
        }
        assert!(checked > 150, "{checked}");
    }
}

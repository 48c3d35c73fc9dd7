//! A small JSON reader, enough for criterion's `estimates.json` and
//! `benchmark.json` and for `agent-login status --json`. xtask is std-only,
//! so this stands in for serde_json: it parses a whole document into a
//! [`Json`] tree and looks values up by key path.

/// Deepest nesting accepted; criterion's files nest three levels.
const MAX_DEPTH: usize = 64;

/// A parsed JSON value. Objects keep their keys in document order.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// Any number, as a double.
    Number(f64),
    /// A string, escapes resolved.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object, as (key, value) pairs in document order.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// Parses one JSON document (surrounding whitespace allowed).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parser = Parser {
            bytes: text.as_bytes(),
            pos: 0,
        };
        let value = parser.value(0)?;
        parser.skip_whitespace();
        if parser.pos != parser.bytes.len() {
            return Err(parser.error("trailing characters after the JSON value"));
        }
        Ok(value)
    }

    /// The value at `path`, a list of object keys from the root.
    pub fn get(&self, path: &[&str]) -> Option<&Self> {
        let Some((first, rest)) = path.split_first() else {
            return Some(self);
        };
        let Self::Object(members) = self else {
            return None;
        };
        let (_, value) = members.iter().find(|(key, _)| key == first)?;
        value.get(rest)
    }

    /// The number at `path`, if there is one.
    pub fn number(&self, path: &[&str]) -> Option<f64> {
        match self.get(path)? {
            Self::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The string at `path`, if there is one.
    pub fn string(&self, path: &[&str]) -> Option<&str> {
        match self.get(path)? {
            Self::String(s) => Some(s),
            _ => None,
        }
    }
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> String {
        format!("{what} at byte {}", self.pos)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// Consumes `byte` (after whitespace) or fails.
    fn expect_byte(&mut self, byte: u8) -> Result<(), String> {
        self.skip_whitespace();
        if self.peek() != Some(byte) {
            return Err(self.error(&format!("expected `{}`", char::from(byte))));
        }
        self.pos += 1;
        Ok(())
    }

    /// Consumes `byte` (after whitespace) if it is next.
    fn eat(&mut self, byte: u8) -> bool {
        self.skip_whitespace();
        if self.peek() != Some(byte) {
            return false;
        }
        self.pos += 1;
        true
    }

    fn value(&mut self, depth: usize) -> Result<Json, String> {
        if depth > MAX_DEPTH {
            return Err(self.error("nesting too deep"));
        }
        self.skip_whitespace();
        match self.peek() {
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => self.string().map(Json::String),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'n') => self.literal("null", Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("unexpected character")),
            None => Err(self.error("unexpected end of input")),
        }
    }

    fn literal(&mut self, word: &str, value: Json) -> Result<Json, String> {
        if !self.bytes[self.pos..].starts_with(word.as_bytes()) {
            return Err(self.error(&format!("expected `{word}`")));
        }
        self.pos += word.len();
        Ok(value)
    }

    fn number(&mut self) -> Result<Json, String> {
        let start = self.pos;
        while matches!(
            self.peek(),
            Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
        ) {
            self.pos += 1;
        }
        let text = std::str::from_utf8(&self.bytes[start..self.pos])
            .map_err(|_| self.error("invalid number"))?;
        match text.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(Json::Number(n)),
            _ => Err(format!("invalid number `{text}` at byte {start}")),
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json, String> {
        self.expect_byte(b'[')?;
        let mut items = Vec::new();
        if self.eat(b']') {
            return Ok(Json::Array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            if self.eat(b']') {
                return Ok(Json::Array(items));
            }
            self.expect_byte(b',')?;
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, String> {
        self.expect_byte(b'{')?;
        let mut members = Vec::new();
        if self.eat(b'}') {
            return Ok(Json::Object(members));
        }
        loop {
            self.skip_whitespace();
            let key = self.string()?;
            self.expect_byte(b':')?;
            let value = self.value(depth + 1)?;
            members.push((key, value));
            if self.eat(b'}') {
                return Ok(Json::Object(members));
            }
            self.expect_byte(b',')?;
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.expect_byte(b'"')?;
        let mut out = Vec::new();
        loop {
            let Some(byte) = self.peek() else {
                return Err(self.error("unterminated string"));
            };
            self.pos += 1;
            match byte {
                b'"' => break,
                b'\\' => self.escape(&mut out)?,
                0x00..=0x1f => return Err(self.error("control character in string")),
                _ => out.push(byte),
            }
        }
        // The input is a &str and escapes push whole characters, so this
        // only fails on a bug; report it rather than panic.
        String::from_utf8(out).map_err(|_| self.error("invalid UTF-8 in string"))
    }

    /// Decodes the escape after a backslash into `out`.
    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), String> {
        let Some(byte) = self.peek() else {
            return Err(self.error("unterminated escape"));
        };
        self.pos += 1;
        let simple = match byte {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let c = self.unicode_escape()?;
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                return Ok(());
            }
            _ => return Err(self.error("invalid escape")),
        };
        out.push(simple);
        Ok(())
    }

    /// The character of a `\uXXXX` escape (the `\u` already read),
    /// including a following low surrogate when the first is a high one.
    fn unicode_escape(&mut self) -> Result<char, String> {
        let first = self.hex4()?;
        if !(0xD800..0xDC00).contains(&first) {
            return char::from_u32(first).ok_or_else(|| self.error("lone low surrogate"));
        }
        if !self.bytes[self.pos..].starts_with(b"\\u") {
            return Err(self.error("high surrogate without a low one"));
        }
        self.pos += 2;
        let second = self.hex4()?;
        if !(0xDC00..0xE000).contains(&second) {
            return Err(self.error("invalid low surrogate"));
        }
        let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
        char::from_u32(code).ok_or_else(|| self.error("invalid surrogate pair"))
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self
            .bytes
            .get(self.pos..self.pos + 4)
            .and_then(|d| std::str::from_utf8(d).ok())
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.error("expected four hex digits"))?;
        let value = u32::from_str_radix(digits, 16).map_err(|_| self.error("bad hex digits"))?;
        self.pos += 4;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ESTIMATES: &str = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1182.36,"upper_bound":1194.34},"point_estimate":1188.09,"standard_error":3.03},"median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1188.8003992015967,"upper_bound":1194.8682367408042},"point_estimate":1192.592101511263,"standard_error":1.36},"median_abs_dev":{"confidence_interval":{"confidence_level":0.95,"lower_bound":12.7,"upper_bound":28.1},"point_estimate":17.582981628235252,"standard_error":4.02},"slope":null}"#;

    #[test]
    fn reads_criterion_estimates() {
        let json = Json::parse(ESTIMATES).unwrap();
        assert_eq!(
            json.number(&["median", "point_estimate"]),
            Some(1192.592101511263)
        );
        assert_eq!(
            json.number(&["median", "confidence_interval", "lower_bound"]),
            Some(1188.8003992015967)
        );
        assert_eq!(
            json.number(&["median_abs_dev", "point_estimate"]),
            Some(17.582981628235252)
        );
        assert_eq!(json.get(&["slope"]), Some(&Json::Null));
        assert_eq!(json.number(&["slope", "point_estimate"]), None);
        assert_eq!(json.number(&["nope"]), None);
    }

    #[test]
    fn reads_criterion_benchmark_ids() {
        let text = r#"{"group_id":"decode_by_size","function_id":"ours","value_str":"60k",
            "throughput":{"Bytes":61440},"full_id":"decode_by_size/ours/60k",
            "directory_name":"decode_by_size/ours/60k","title":"decode_by_size/ours/60k"}"#;
        let json = Json::parse(text).unwrap();
        assert_eq!(json.string(&["title"]), Some("decode_by_size/ours/60k"));
        assert_eq!(json.string(&["value_str"]), Some("60k"));
        assert_eq!(json.number(&["throughput", "Bytes"]), Some(61440.0));
    }

    #[test]
    fn parses_every_kind_of_value() {
        let json =
            Json::parse(" {\"a\": [1, -2.5e3, true, false, null, \"x\"], \"b\": {}, \"c\": []} \n")
                .unwrap();
        assert_eq!(
            json.get(&["a"]),
            Some(&Json::Array(vec![
                Json::Number(1.0),
                Json::Number(-2500.0),
                Json::Bool(true),
                Json::Bool(false),
                Json::Null,
                Json::String("x".to_owned()),
            ]))
        );
        assert_eq!(json.get(&["b"]), Some(&Json::Object(Vec::new())));
        assert_eq!(json.get(&["c"]), Some(&Json::Array(Vec::new())));
    }

    #[test]
    fn resolves_string_escapes() {
        let json = Json::parse(r#""q\" b\\ s\/ \n\t \u00e9 \ud83d\ude00 ü""#).unwrap();
        assert_eq!(json, Json::String("q\" b\\ s/ \n\t é 😀 ü".to_owned()));
    }

    #[test]
    fn rejects_malformed_documents() {
        for bad in [
            "",
            "{",
            "{\"a\":}",
            "{\"a\" 1}",
            "{\"a\":1,}",
            "[1 2]",
            "\"open",
            "\"bad \\x escape\"",
            "\"\\ud800 lone\"",
            "\"\\udc00\"",
            "tru",
            "1e999",
            "{} extra",
            "\"raw\ncontrol\"",
        ] {
            assert!(Json::parse(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn refuses_deep_nesting() {
        let deep = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
        assert!(Json::parse(&deep).is_err());
        let fine = format!("{}{}", "[".repeat(10), "]".repeat(10));
        assert!(Json::parse(&fine).is_ok());
    }
}

//! How deep a YAML document's flow collections (`[ ]`, `{ }`) nest, found before the document is
//! parsed. The YAML scanner under serde_yaml (libyaml) does work in proportion to the current
//! flow depth for every token it reads, so a megabyte of `[` takes it minutes; relsite's own
//! files nest flow collections two deep at most.
//!
//! The depth is followed as that scanner follows it: block structure (indentation, keys,
//! sequence entries), plain, quoted and block scalars, comments, and inside flow collections
//! every token. Where a document does something this does not follow (tags, explicit keys,
//! a construct the scanner would reject), it stops following: from there on every `[` and `{`
//! counts as one more level and none as one fewer, which can only overstate the depth.

/// How deep flow collections may nest in a YAML document relsite reads.
pub const MAX_FLOW_DEPTH: usize = 64;

/// Where a document's flow collections first nest past [`MAX_FLOW_DEPTH`]: line and column,
/// from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooDeep {
    pub line: usize,
    pub column: usize,
}

/// Checks that flow collections in `text` nest at most [`MAX_FLOW_DEPTH`] deep.
pub fn check(text: &str) -> Result<(), TooDeep> {
    follow(text, MAX_FLOW_DEPTH).0
}

/// Follows `text` until its flow collections pass `limit`; also returns the deepest they went
/// (or were counted to go) before.
fn follow(text: &str, limit: usize) -> (Result<(), TooDeep>, usize) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut scan = Scan {
        s: text.as_bytes(),
        i: 0,
        line: 0,
        col: 0,
        indents: Vec::new(),
        depth: 0,
        deepest: 0,
        limit,
        pending_plain: None,
    };
    // Line breaks the scanner knows but this does not follow.
    let odd_breaks = ["\u{85}", "\u{2028}", "\u{2029}"];
    let followed = if odd_breaks.iter().any(|b| text.contains(b)) {
        Err(Halt::Lost)
    } else {
        scan.document()
    };
    let result = match followed {
        Ok(()) | Err(Halt::End) => Ok(()),
        Err(Halt::TooDeep) => Err(scan.here()),
        Err(Halt::Lost) => scan.count_the_rest(),
    };
    (result, scan.deepest)
}

/// Why following the document stopped.
enum Halt {
    /// The text ended (also inside a scalar or collection, which the scanner rejects).
    End,
    /// Flow collections passed the limit at the current position.
    TooDeep,
    /// The document does something not followed here.
    Lost,
}

type Step = Result<(), Halt>;

struct Scan<'a> {
    s: &'a [u8],
    i: usize,
    /// Line and column of `i`, from 0 (columns in bytes: indentation is ASCII).
    line: usize,
    col: usize,
    /// Columns of the open block collections, innermost last (the scanner's indentation stack).
    indents: Vec<usize>,
    /// Open flow collections.
    depth: usize,
    /// The most open at once so far.
    deepest: usize,
    /// How many may be open at once.
    limit: usize,
    /// The indentation of the block collection holding a plain scalar that ended at a line
    /// break: more indented lines continue it.
    pending_plain: Option<isize>,
}

fn is_blankz(c: Option<u8>) -> bool {
    matches!(c, None | Some(b' ' | b'\t' | b'\n' | b'\r'))
}

fn is_break(c: Option<u8>) -> bool {
    matches!(c, Some(b'\n' | b'\r'))
}

/// Characters of an anchor or alias name.
fn is_name(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

impl Scan<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn peek_at(&self, n: usize) -> Option<u8> {
        self.s.get(self.i + n).copied()
    }

    fn here(&self) -> TooDeep {
        TooDeep {
            line: self.line + 1,
            column: self.col + 1,
        }
    }

    /// Moves past one byte, or one line break (`\r\n` is one).
    fn advance(&mut self) {
        match self.peek() {
            Some(b'\r') if self.peek_at(1) == Some(b'\n') => {
                self.i += 2;
                (self.line, self.col) = (self.line + 1, 0);
            }
            Some(b'\r' | b'\n') => {
                self.i += 1;
                (self.line, self.col) = (self.line + 1, 0);
            }
            Some(c) => {
                self.i += 1;
                // Columns count characters: continuation bytes of UTF-8 do not move them.
                if c & 0xC0 != 0x80 {
                    self.col += 1;
                }
            }
            None => {}
        }
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.advance();
        }
    }

    fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.advance();
        }
    }

    fn skip_to_break(&mut self) {
        while !matches!(self.peek(), None | Some(b'\n' | b'\r')) {
            self.advance();
        }
    }

    /// Past the rest of the line: only blanks and a comment may be there.
    fn end_of_line(&mut self) -> Step {
        self.skip_blanks();
        match self.peek() {
            None => Err(Halt::End),
            Some(b'#') => {
                self.skip_to_break();
                Ok(())
            }
            Some(b'\n' | b'\r') => Ok(()),
            Some(_) => Err(Halt::Lost),
        }
    }

    fn parser_indent(&self) -> isize {
        self.indents.last().map_or(-1, |&i| i as isize)
    }

    /// A block collection starts at `col` unless one is open there or deeper.
    fn roll(&mut self, col: usize) {
        if self.parser_indent() < col as isize {
            self.indents.push(col);
        }
    }

    fn at_document_marker(&self) -> bool {
        self.col == 0
            && (self.s[self.i..].starts_with(b"---") || self.s[self.i..].starts_with(b"..."))
            && is_blankz(self.peek_at(3))
    }

    fn enter_flow(&mut self) -> Step {
        self.depth += 1;
        self.deepest = self.deepest.max(self.depth);
        if self.depth > self.limit {
            return Err(Halt::TooDeep);
        }
        Ok(())
    }

    /// Every line of the document, in block context.
    fn document(&mut self) -> Step {
        loop {
            if self.peek().is_none() {
                return Ok(());
            }
            self.skip_spaces();
            match self.peek() {
                None => return Ok(()),
                Some(b'\n' | b'\r') => {
                    self.advance();
                    continue;
                }
                // A tab where indentation is: the scanner may reject it.
                Some(b'\t') => return Err(Halt::Lost),
                Some(b'#') => {
                    // A comment ends a plain scalar.
                    self.pending_plain = None;
                    self.skip_to_break();
                    continue;
                }
                Some(_) => {}
            }
            if let Some(indent) = self.pending_plain.take()
                && self.col as isize > indent
                && !self.at_document_marker()
            {
                self.plain_continuation(indent)?;
                continue;
            }
            if self.col == 0 && self.peek() == Some(b'%') {
                self.skip_to_break();
                continue;
            }
            if self.at_document_marker() {
                self.advance();
                self.advance();
                self.advance();
                self.indents.clear();
                self.end_of_line()?;
                continue;
            }
            while self.indents.last().is_some_and(|&i| i > self.col) {
                self.indents.pop();
            }
            self.node()?;
        }
    }

    /// A line that continues a plain scalar: text, up to a comment.
    fn plain_continuation(&mut self, indent: isize) -> Step {
        loop {
            match self.peek() {
                None => return Err(Halt::End),
                Some(b'\n' | b'\r') => {
                    self.pending_plain = Some(indent);
                    return Ok(());
                }
                // `: ` would end the scalar as a multi-line key, which the scanner rejects.
                Some(b':') if is_blankz(self.peek_at(1)) => return Err(Halt::Lost),
                Some(b' ' | b'\t') => {
                    self.skip_blanks();
                    if self.peek() == Some(b'#') {
                        self.skip_to_break();
                        return Ok(());
                    }
                }
                Some(_) => self.advance(),
            }
        }
    }

    /// A node in block context, from the first token of its line: sequence entries, then a key
    /// and its value, or a value. A key after an anchor is not followed.
    fn node(&mut self) -> Step {
        while self.peek() == Some(b'-') && is_blankz(self.peek_at(1)) {
            self.roll(self.col);
            self.advance();
            self.skip_blanks();
            if matches!(self.peek(), None | Some(b'\n' | b'\r' | b'#')) {
                return self.end_of_line();
            }
        }
        let key_allowed = self.peek() != Some(b'&');
        self.anchors()?;
        let start = self.col;
        match self.peek() {
            None => Err(Halt::End),
            Some(b'[' | b'{') => {
                self.flow()?;
                self.after_value()
            }
            Some(q @ (b'\'' | b'"')) => {
                let line = self.line;
                self.quoted(q)?;
                self.skip_blanks();
                if self.peek() == Some(b':') && is_blankz(self.peek_at(1)) {
                    // A key on one line.
                    if !key_allowed || self.line != line {
                        return Err(Halt::Lost);
                    }
                    self.roll(start);
                    self.advance();
                    return self.value();
                }
                self.after_value()
            }
            Some(b'|' | b'>') => self.block_scalar(),
            Some(b'*') => {
                self.name()?;
                self.after_value()
            }
            Some(
                b'!' | b'?' | b':' | b',' | b']' | b'}' | b'%' | b'@' | b'`' | b'#' | b'\t' | b' ',
            ) => Err(Halt::Lost),
            Some(b'\n' | b'\r') => Ok(()),
            Some(_) => {
                if self.plain_block()? {
                    // A key: what follows `:` is its value.
                    if !key_allowed {
                        return Err(Halt::Lost);
                    }
                    self.roll(start);
                    self.advance();
                    self.value()
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Anchors (`&name`) before a node, each followed by blanks.
    fn anchors(&mut self) -> Step {
        while self.peek() == Some(b'&') {
            self.name()?;
            self.skip_blanks();
        }
        Ok(())
    }

    /// The value after `key:`, on its line (or on the lines below, then nothing here).
    fn value(&mut self) -> Step {
        self.skip_blanks();
        self.anchors()?;
        match self.peek() {
            None => Err(Halt::End),
            Some(b'\n' | b'\r') => Ok(()),
            Some(b'#') => {
                self.skip_to_break();
                Ok(())
            }
            Some(b'[' | b'{') => {
                self.flow()?;
                self.after_value()
            }
            Some(q @ (b'\'' | b'"')) => {
                self.quoted(q)?;
                self.after_value()
            }
            Some(b'|' | b'>') => self.block_scalar(),
            Some(b'*') => {
                self.name()?;
                self.after_value()
            }
            Some(b'-') if is_blankz(self.peek_at(1)) => Err(Halt::Lost),
            Some(b'!' | b'?' | b':' | b',' | b']' | b'}' | b'%' | b'@' | b'`') => Err(Halt::Lost),
            Some(_) => {
                if self.plain_block()? {
                    // `key: value: more`, which the scanner rejects.
                    return Err(Halt::Lost);
                }
                Ok(())
            }
        }
    }

    /// After a complete value on its line: only a comment may follow.
    fn after_value(&mut self) -> Step {
        self.end_of_line()
    }

    /// An anchor or alias (`&name`, `*name`): the name must end in a blank or a flow indicator.
    fn name(&mut self) -> Step {
        self.advance();
        let from = self.i;
        while self.peek().is_some_and(is_name) {
            self.advance();
        }
        let ends_well = matches!(
            self.peek(),
            None | Some(
                b' ' | b'\t'
                    | b'\n'
                    | b'\r'
                    | b'?'
                    | b':'
                    | b','
                    | b']'
                    | b'}'
                    | b'%'
                    | b'@'
                    | b'`'
            )
        );
        if self.i == from || !ends_well {
            return Err(Halt::Lost);
        }
        Ok(())
    }

    /// A plain scalar in block context, from its first character to `: ` (it is a key: returns
    /// true, at the `:`), a comment or the end of its line (it may go on: more indented lines
    /// continue it).
    fn plain_block(&mut self) -> Result<bool, Halt> {
        loop {
            match self.peek() {
                None => return Err(Halt::End),
                Some(b':') if is_blankz(self.peek_at(1)) => return Ok(true),
                Some(b'\n' | b'\r') => {
                    self.pending_plain = Some(self.parser_indent());
                    return Ok(false);
                }
                Some(b' ' | b'\t') => {
                    self.skip_blanks();
                    if self.peek() == Some(b'#') {
                        self.skip_to_break();
                        return Ok(false);
                    }
                }
                Some(_) => self.advance(),
            }
        }
    }

    /// A quoted scalar from its opening quote past its closing one, over lines if need be.
    fn quoted(&mut self, quote: u8) -> Step {
        self.advance();
        loop {
            if self.at_document_marker() {
                return Err(Halt::Lost);
            }
            match self.peek() {
                None => return Err(Halt::End),
                Some(b'\\') if quote == b'"' => {
                    self.advance();
                    self.advance();
                }
                Some(b'\'') if quote == b'\'' && self.peek_at(1) == Some(b'\'') => {
                    self.advance();
                    self.advance();
                }
                Some(c) if c == quote => {
                    self.advance();
                    return Ok(());
                }
                Some(_) => self.advance(),
            }
        }
    }

    /// A block scalar (`|` or `>`): its header line, then its content lines, as the scanner
    /// finds them. Ends at the start of the first line after it.
    fn block_scalar(&mut self) -> Step {
        self.advance();
        let mut increment = None;
        for _ in 0..2 {
            match self.peek() {
                Some(b'+' | b'-') => self.advance(),
                Some(d @ b'1'..=b'9') if increment.is_none() => {
                    increment = Some(usize::from(d - b'0'));
                    self.advance();
                }
                _ => break,
            }
        }
        self.end_of_line()?;
        self.advance();
        let parser_indent = self.parser_indent();
        let indent = match increment {
            Some(k) => (parser_indent.max(0) as usize) + k,
            None => {
                // The content's indentation: the most spaces before the first line with text.
                let (mut i, mut most) = (self.i, 0usize);
                loop {
                    let spaces = self.s[i..].iter().take_while(|&&c| c == b' ').count();
                    most = most.max(spaces);
                    i += spaces;
                    match self.s.get(i) {
                        Some(b'\n') => i += 1,
                        Some(b'\r') => {
                            i += if self.s.get(i + 1) == Some(&b'\n') {
                                2
                            } else {
                                1
                            }
                        }
                        Some(b'\t') => return Err(Halt::Lost),
                        _ => break,
                    }
                }
                most.max((parser_indent + 1).max(1) as usize)
            }
        };
        // Content: lines of at least `indent` spaces, and lines of spaces only.
        loop {
            let line_start = (self.i, self.line, self.col);
            while self.peek() == Some(b' ') && self.col < indent {
                self.advance();
            }
            match self.peek() {
                None => return Err(Halt::End),
                Some(b'\n' | b'\r') => self.advance(),
                Some(b'\t') if self.col < indent => return Err(Halt::Lost),
                Some(_) if self.col >= indent => {
                    self.skip_to_break();
                    if self.peek().is_none() {
                        return Err(Halt::End);
                    }
                    self.advance();
                }
                Some(_) => {
                    // Less indented: the scalar has ended; this line is read anew.
                    (self.i, self.line, self.col) = line_start;
                    return Ok(());
                }
            }
        }
    }

    /// A flow collection, from its opening bracket past the one that closes it, token by token
    /// as the scanner reads them in flow context.
    fn flow(&mut self) -> Step {
        self.enter_flow()?;
        self.advance();
        loop {
            // To the next token: blanks, line breaks and comments.
            loop {
                match self.peek() {
                    Some(b' ' | b'\t' | b'\n' | b'\r') => self.advance(),
                    Some(b'#') => self.skip_to_break(),
                    _ => break,
                }
            }
            if self.at_document_marker() {
                return Err(Halt::Lost);
            }
            match self.peek() {
                None => return Err(Halt::End),
                Some(b'[' | b'{') => {
                    self.enter_flow()?;
                    self.advance();
                }
                Some(b']' | b'}') => {
                    self.depth -= 1;
                    self.advance();
                    if self.depth == 0 {
                        return Ok(());
                    }
                }
                Some(b',' | b'?' | b':') => self.advance(),
                Some(b'-') if is_blankz(self.peek_at(1)) => return Err(Halt::Lost),
                Some(b'*' | b'&') => self.name()?,
                Some(q @ (b'\'' | b'"')) => self.quoted(q)?,
                Some(b'!' | b'|' | b'>' | b'%' | b'@' | b'`') => return Err(Halt::Lost),
                Some(_) => self.plain_flow()?,
            }
        }
    }

    /// A plain scalar in flow context: it ends at a flow indicator, `: `, a comment or a
    /// document marker, and goes on over line breaks.
    fn plain_flow(&mut self) -> Step {
        loop {
            if self.at_document_marker() || self.peek() == Some(b'#') {
                return Ok(());
            }
            while !is_blankz(self.peek()) {
                match (self.peek(), self.peek_at(1)) {
                    // `:` before a flow indicator: the scanner rejects it.
                    (Some(b':'), Some(b',' | b'?' | b'[' | b']' | b'{' | b'}')) => {
                        return Err(Halt::Lost);
                    }
                    (Some(b':'), next) if is_blankz(next) => return Ok(()),
                    (Some(b',' | b'[' | b']' | b'{' | b'}'), _) => return Ok(()),
                    _ => self.advance(),
                }
            }
            if self.peek().is_none() {
                return Err(Halt::End);
            }
            let mut after_break = false;
            while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                if is_break(self.peek()) {
                    after_break = true;
                } else if after_break && self.peek() == Some(b'\t') {
                    // A tab in the indentation of a continued line may be rejected.
                    return Err(Halt::Lost);
                }
                self.advance();
            }
        }
    }

    /// Not following the document any more: every `[` and `{` from here on is one level more.
    fn count_the_rest(&mut self) -> Result<(), TooDeep> {
        while let Some(c) = self.peek() {
            if matches!(c, b'[' | b'{') && self.enter_flow().is_err() {
                return Err(self.here());
            }
            self.advance();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_ok(text: &str) -> bool {
        check(text).is_ok()
    }

    #[test]
    fn relsite_documents_pass() {
        for text in [
            "title: Builds\nbase_url: https://e.com/\napps:\n  com.a.b: {name: A, slug: a}\n  com.c.d:\n    name: \"C [beta]\"\n",
            "notes: |\n  - [x] done [[[[\n  - [ ] not done\ndate: 2024-05-01\n",
            "notes: >-\n    folded [ text\n\n    more [ text\nchannel: beta\n",
            "notes: plain text [with brackets\n  continued [[[ on\n  more lines\ndraft: true\n",
            "notes: 'it''s [ quoted'\ntitle: \"a \\\" [ b\"\n",
            "- a\n- [1, [2, [3]]]\n- {a: [b, {c: d}]}\n- &x [a]\n- *x\n",
            "# comment [[[[\nkey: value # comment [[[[\n",
            "a:\n- b\n- c\nd: e\n",
            "a: |2\n   x [[[\n  y\nb: c\n",
            "---\na: b\n...\n",
        ] {
            assert!(depth_ok(text), "{text}");
        }
    }

    #[test]
    fn deep_flow_collections_are_refused_where_they_pass_the_limit() {
        let text = format!("a: b\nnotes: {}", "[".repeat(100));
        assert_eq!(
            check(&text),
            Err(TooDeep {
                line: 2,
                column: 8 + MAX_FLOW_DEPTH
            })
        );
        let nested = |depth: usize| format!("a: {}x{}\n", "[".repeat(depth), "]".repeat(depth));
        assert!(check(&nested(MAX_FLOW_DEPTH)).is_ok());
        assert!(check(&nested(MAX_FLOW_DEPTH + 1)).is_err());
        let lines = format!("a:\n{}", "  - [\n".repeat(100));
        assert!(check(&lines).is_err());
    }

    /// Closing brackets where the scanner does not see them (in quotes or comments) do not
    /// make a deep document look shallow.
    #[test]
    fn brackets_in_quotes_and_comments_inside_flow_do_not_close() {
        for level in ["[ \"]\",", "[ ']',", "[ #]\n", "{ a: \"}\",", "[ a #]\n,"] {
            let text = format!("k: {}\n", level.repeat(100));
            assert!(check(&text).is_err(), "{level}");
        }
        // A plain scalar in flow context ends at a bracket: these close.
        let text = format!("k: [{}]\n", "[a], {b: c},".repeat(1000));
        assert!(check(&text).is_ok());
    }

    /// The most flow collections libyaml's scanner has open at once over what serde_yaml has it
    /// read of `text`: up to where its parser ends or fails. (The scanner may have read on to
    /// the end of that line, at most a kilobyte, to tell a key: that much is bounded anyway.)
    fn libyaml_depth(text: &str) -> usize {
        use std::mem::MaybeUninit;
        use unsafe_libyaml::*;
        // SAFETY: parsers, events and tokens are initialized by libyaml before use and freed by
        // it after; the input outlives the parsers.
        unsafe {
            let new_parser = |parser: &mut MaybeUninit<yaml_parser_t>| {
                assert!(yaml_parser_initialize(parser.as_mut_ptr()).ok);
                yaml_parser_set_input_string(parser.as_mut_ptr(), text.as_ptr(), text.len() as u64);
                parser.as_mut_ptr()
            };
            // How far the scanner gets when the parser drives it.
            let mut parsing = MaybeUninit::uninit();
            let parser = new_parser(&mut parsing);
            let reached = loop {
                let mut event = MaybeUninit::<yaml_event_t>::uninit();
                if yaml_parser_parse(parser, event.as_mut_ptr()).fail {
                    break (&*parser).problem_mark.index;
                }
                let end = (*event.as_ptr()).type_ == YAML_STREAM_END_EVENT;
                yaml_event_delete(event.as_mut_ptr());
                if end {
                    break u64::MAX;
                }
            };
            yaml_parser_delete(parser);
            // The flow level of the tokens up to there.
            let mut scanning = MaybeUninit::uninit();
            let parser = new_parser(&mut scanning);
            let (mut level, mut deepest) = (0usize, 0usize);
            loop {
                let mut token = MaybeUninit::<yaml_token_t>::uninit();
                if yaml_parser_scan(parser, token.as_mut_ptr()).fail {
                    break;
                }
                let token = token.as_mut_ptr();
                let (kind, at) = ((*token).type_, (*token).start_mark.index);
                yaml_token_delete(token);
                if at >= reached || kind == YAML_STREAM_END_TOKEN {
                    break;
                }
                match kind {
                    YAML_FLOW_SEQUENCE_START_TOKEN | YAML_FLOW_MAPPING_START_TOKEN => {
                        level += 1;
                        deepest = deepest.max(level);
                    }
                    YAML_FLOW_SEQUENCE_END_TOKEN | YAML_FLOW_MAPPING_END_TOKEN => {
                        level = level.saturating_sub(1);
                    }
                    _ => {}
                }
            }
            yaml_parser_delete(parser);
            deepest
        }
    }

    /// Random numbers, the same every run.
    struct Dice(u64);

    impl Dice {
        fn roll(&mut self, sides: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % sides as u64) as usize
        }

        fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            from[self.roll(from.len())]
        }
    }

    /// Scalars with the characters that might be mistaken for structure.
    const TEXT: &[&str] = &[
        "a", "it's", "x [y", "]z", "{w", "a#b", "\\\"", "k:v", "- not", "x, y", "é [", "''",
    ];

    /// A flow collection `depth` levels deep at most.
    fn flow_node(dice: &mut Dice, depth: usize) -> String {
        let item = |dice: &mut Dice| match dice.roll(9) {
            0 | 1 if depth > 0 => flow_node(dice, depth - 1),
            2 => format!("'{} ]'", dice.pick(TEXT)),
            3 => format!("\"{} ]\\\" }}\"", dice.pick(TEXT)),
            4 => format!("a #]\n  {}", dice.pick(&["b", "]", "c"])),
            5 => format!("&x{} b", dice.roll(3)),
            6 => "*x0".to_string(),
            7 => format!("k: {}", dice.pick(&["v", "[1]", "'q'"])),
            _ => dice.pick(&["a b", "x\n   y", "-z", "1"]).to_string(),
        };
        let items: Vec<String> = (0..dice.roll(4)).map(|_| item(dice)).collect();
        let (open, close) = if dice.roll(2) == 0 {
            ("[", "]")
        } else {
            ("{", "}")
        };
        format!("{open}{}{close}", items.join(", "))
    }

    /// A block collection at `indent`, `depth` levels deep at most.
    fn block_node(dice: &mut Dice, indent: usize, depth: usize) -> String {
        let pad = " ".repeat(indent);
        let mut out = String::new();
        let sequence = dice.roll(3) == 0;
        for n in 0..1 + dice.roll(4) {
            out.push_str(&pad);
            out.push_str(&if sequence {
                "- ".to_string()
            } else {
                format!("k{n}: ")
            });
            match dice.roll(10) {
                0 | 1 => out.push_str(&flow_node(dice, 3)),
                2 => out.push_str(&format!(
                    "'{}\n{pad}  {} '",
                    dice.pick(TEXT),
                    dice.pick(TEXT)
                )),
                3 => out.push_str(&format!("\"{} \\\"\n{pad} ]\"", dice.pick(TEXT))),
                4 => {
                    out.push_str(dice.pick(&["|", ">-", "|2", "|+"]));
                    for _ in 0..1 + dice.roll(3) {
                        let deeper = " ".repeat(indent + 2 + dice.roll(3));
                        out.push_str(&format!("\n{deeper}{} [[ '", dice.pick(TEXT)));
                    }
                }
                5 if depth > 0 => {
                    out.push('\n');
                    out.push_str(&block_node(dice, indent + 2, depth - 1));
                    continue;
                }
                6 => out.push_str(&format!(
                    "{}\n{pad}  {}",
                    dice.pick(TEXT),
                    dice.pick(&["more [", "'q", "x: y", "# c [", "{"])
                )),
                7 => out.push_str(&format!("&a{n} {}", flow_node(dice, 2))),
                8 => out.push_str(&format!("{} # [{{", dice.pick(TEXT))),
                _ => out.push_str(dice.pick(TEXT)),
            }
            out.push('\n');
        }
        out
    }

    /// Random documents, mostly well formed, some slightly damaged: what is found here is never
    /// less deep than what libyaml reads.
    #[test]
    fn never_finds_less_than_libyaml() {
        const DAMAGE: &[&str] = &[
            "[", "]", "{", "}", ",", ":", ": ", "- ", "'", "\"", "#", " #", " ", "\n", "\n  ", "|",
            ">", "&a ", "*a", "\\", "? ", "!t ", "\t", "---\n", "x",
        ];
        let mut dice = Dice(0x9E37_79B9_7F4A_7C15);
        let (mut nested, mut whole, mut lost) = (0, 0, 0);
        for round in 0..40_000 {
            let mut text = block_node(&mut dice, 0, 3);
            for _ in 0..round % 3 {
                let mut at = dice.roll(text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                match dice.roll(2) {
                    0 => text.insert_str(at, dice.pick(DAMAGE)),
                    _ => {
                        let mut to = (at + 1 + dice.roll(3)).min(text.len());
                        while !text.is_char_boundary(to) {
                            to += 1;
                        }
                        text.replace_range(at..to, "");
                    }
                }
            }
            let theirs = libyaml_depth(&text);
            let (_, ours) = follow(&text, usize::MAX);
            assert!(ours >= theirs, "{text:?}: found {ours}, libyaml {theirs}");
            nested += usize::from(theirs >= 2);
            if round % 3 == 0 && serde_yaml::from_str::<serde_yaml::Value>(&text).is_ok() {
                whole += 1;
                lost += usize::from(ours > theirs);
            }
        }
        assert!(nested > 5_000, "the documents nest: {nested}");
        // Well-formed documents are followed, not counted bracket by bracket.
        assert!(lost * 50 < whole, "lost in {lost} of {whole}");
    }

    /// Where the document is not followed, every opening bracket counts.
    #[test]
    fn a_document_not_followed_counts_every_bracket() {
        let text = format!("!tag a: b\nc: {}\n", "[]".repeat(100));
        assert!(check(&text).is_err());
        let text = format!("!tag a: b\nc: {}\n", "[]".repeat(30));
        assert!(check(&text).is_ok());
    }
}

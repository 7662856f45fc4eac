package client

import "strings"

// PyRepr renders b the way Python's repr() renders a bytes object:
// b'Hello, world', b"it's", b'\x00\n\\'. Tab, newline and carriage return
// use their letter escapes, the backslash and the quote in use are escaped,
// other bytes outside printable ASCII (0x20..0x7e) become \xhh. The quote is
// a single quote unless the data contains a single quote and no double quote.
func PyRepr(b []byte) string {
	quote := byte('\'')
	if strings.IndexByte(string(b), '\'') >= 0 && strings.IndexByte(string(b), '"') < 0 {
		quote = '"'
	}
	const hex = "0123456789abcdef"
	var sb strings.Builder
	sb.Grow(len(b) + 3)
	sb.WriteByte('b')
	sb.WriteByte(quote)
	for _, c := range b {
		switch {
		case c == quote || c == '\\':
			sb.WriteByte('\\')
			sb.WriteByte(c)
		case c == '\t':
			sb.WriteString(`\t`)
		case c == '\n':
			sb.WriteString(`\n`)
		case c == '\r':
			sb.WriteString(`\r`)
		case c < 0x20 || c >= 0x7f:
			sb.WriteString(`\x`)
			sb.WriteByte(hex[c>>4])
			sb.WriteByte(hex[c&0xf])
		default:
			sb.WriteByte(c)
		}
	}
	sb.WriteByte(quote)
	return sb.String()
}

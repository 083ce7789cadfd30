// Package yamltext writes values into YAML text that tools edit in place
// (the tenants command, the delivery tool's tag edits): a value is written
// so that YAML reads it back as exactly that string, in block and in flow
// context, whatever it holds. A value can never become syntax: no
// `enterprise, onRemove: drop` smuggles a key into a tenant's entry.
package yamltext

import (
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// plain are values safe unquoted anywhere, flow context included: no
// indicator, separator or comment character, and not starting with one.
var plain = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_./-]*$`)

// Scalar is v as a YAML scalar: plain when that reads back as the same
// string (not a number, a boolean or null), double-quoted otherwise.
func Scalar(v string) string {
	if plain.MatchString(v) && ReadsAs(v, v) {
		return v
	}
	return Quoted(v)
}

// Quoted is v double-quoted. Go's escapes (\", \\, \n, \t, \xNN, \uNNNN,
// \UNNNNNNNN, ...) are all YAML double-quoted escapes.
func Quoted(v string) string {
	return strconv.Quote(v)
}

// SingleQuoted is v single-quoted, for a value that was written so; a
// value YAML cannot hold single-quoted (a line break) is double-quoted.
func SingleQuoted(v string) string {
	if strings.ContainsAny(v, "\n\r") || !strconv.CanBackquote(strings.ReplaceAll(v, "`", "")) {
		return Quoted(v)
	}
	return "'" + strings.ReplaceAll(v, "'", "''") + "'"
}

// ReadsAs reports whether the scalar text reads back as the string want.
func ReadsAs(text, want string) bool {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte("v: "+text), &n); err != nil || len(n.Content) != 1 {
		return false
	}
	m := n.Content[0]
	if len(m.Content) != 2 || m.Content[1].Kind != yaml.ScalarNode || m.Content[1].ShortTag() != "!!str" {
		return false
	}
	return m.Content[1].Value == want
}

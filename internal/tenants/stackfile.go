package tenants

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/saas-platform/saas-platform/config"
	"github.com/saas-platform/saas-platform/internal/yamltext"
)

// stackFile is a stack file's text and where its tenants are in it. Edits
// are made on the text, at the positions yaml.v3 reports for the nodes, so
// that every byte the edit does not touch (comments, blank lines, quoting,
// the order of keys) stays as it was: re-encoding the document would
// re-indent and re-quote the whole file, and lose its blank lines.
type stackFile struct {
	name    string // for messages
	project string
	lines   []string // the text, each line with its newline
	config  *yaml.Node
	key     *yaml.Node // the tenants key, nil when absent
	seq     *yaml.Node // its value: a sequence, or a null scalar
	entries []entry
}

// entry is one item of the tenants list, as written.
type entry struct {
	ID, Plan, OnRemove, Pool string
	node                     *yaml.Node
}

// values are what an entry says, without where it is.
func (e entry) values() [4]string { return [4]string{e.ID, e.Plan, e.OnRemove, e.Pool} }

func parseStackFile(data []byte, name, project string) (*stackFile, error) {
	f := &stackFile{name: name, project: project, lines: splitLines(data)}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s is not valid YAML: %w", name, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s is not a Pulumi stack file: no top-level mapping", name)
	}
	top := doc.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value == "config" {
			f.config = top.Content[i+1]
		}
	}
	if f.config == nil || f.config.Kind != yaml.MappingNode || f.config.Style&yaml.FlowStyle != 0 {
		return nil, fmt.Errorf("%s has no config: block to edit", name)
	}
	for i := 0; i+1 < len(f.config.Content); i += 2 {
		k := f.config.Content[i].Value
		if k == project+":"+config.KeyTenants || k == config.KeyTenants {
			f.key, f.seq = f.config.Content[i], f.config.Content[i+1]
		}
	}
	if f.seq == nil {
		return f, nil
	}
	switch {
	case f.seq.Kind == yaml.ScalarNode && f.seq.Tag == "!!null":
	case f.seq.Kind == yaml.SequenceNode:
		for i, item := range f.seq.Content {
			e, err := readEntry(item)
			if err != nil {
				return nil, fmt.Errorf("%s, %s[%d]: %w", name, f.key.Value, i, err)
			}
			f.entries = append(f.entries, e)
		}
	default:
		return nil, fmt.Errorf("%s: %s is not a list", name, f.key.Value)
	}
	return f, nil
}

func readEntry(item *yaml.Node) (entry, error) {
	if item.Kind != yaml.MappingNode {
		return entry{}, fmt.Errorf("a tenant must be a mapping such as {id: acme, plan: premium}")
	}
	e := entry{node: item}
	for i := 0; i+1 < len(item.Content); i += 2 {
		switch item.Content[i].Value {
		case "id":
			e.ID = item.Content[i+1].Value
		case "plan":
			e.Plan = item.Content[i+1].Value
		case "onRemove":
			e.OnRemove = item.Content[i+1].Value
		case "pool":
			e.Pool = item.Content[i+1].Value
		}
	}
	return e, nil
}

// with is the entries with one changed.
func (f *stackFile) with(e entry, change func(*entry)) []entry {
	out := slices.Clone(f.entries)
	for i := range out {
		if out[i].node == e.node {
			change(&out[i])
		}
	}
	return out
}

// without is the entries less one.
func (f *stackFile) without(e entry) []entry {
	return slices.DeleteFunc(slices.Clone(f.entries), func(o entry) bool { return o.node == e.node })
}

// find returns the entry of a tenant.
func (f *stackFile) find(id string) (entry, bool) {
	for _, e := range f.entries {
		if e.ID == id {
			return e, true
		}
	}
	return entry{}, false
}

func (f *stackFile) bytes() []byte { return []byte(strings.Join(f.lines, "")) }

func splitLines(data []byte) []string {
	var lines []string
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			lines = append(lines, string(data))
			break
		}
		lines = append(lines, string(data[:i+1]))
		data = data[i+1:]
	}
	return lines
}

// The edits. Each returns the new text; the stackFile itself is not
// updated (the caller parses the result again).

// add appends a tenant, in the style of the entries already there; pool,
// when not empty, is written as its pool key.
func (f *stackFile) add(id, plan, pool string) ([]byte, error) {
	lines := append([]string(nil), f.lines...)
	// Values are written so that YAML reads them back as exactly the
	// given strings, whatever they hold.
	id, plan, pool = yamltext.Scalar(id), yamltext.Scalar(plan), optionalScalar(pool)
	item := fmt.Sprintf("{id: %s, plan: %s}", id, plan)
	if pool != "" {
		item = fmt.Sprintf("{id: %s, plan: %s, pool: %s}", id, plan, pool)
	}
	switch {
	case f.seq != nil && f.seq.Kind == yaml.SequenceNode && f.seq.Style&yaml.FlowStyle != 0:
		return f.addToFlowList(lines, item)
	case f.seq != nil && f.seq.Kind == yaml.SequenceNode && len(f.seq.Content) > 0:
		last := f.seq.Content[len(f.seq.Content)-1]
		prefix, err := f.dashPrefix(last)
		if err != nil {
			return nil, err
		}
		text := prefix + item + "\n"
		if last.Style&yaml.FlowStyle == 0 {
			// A block mapping entry: one key a line, under the first.
			pad := strings.Repeat(" ", len(prefix))
			text = fmt.Sprintf("%sid: %s\n%splan: %s\n", prefix, id, pad, plan)
			if pool != "" {
				text += fmt.Sprintf("%spool: %s\n", pad, pool)
			}
		}
		return insertAt(lines, lastLine(last), text), nil
	case f.seq != nil:
		// `tenants:` with nothing under it.
		indent := strings.Repeat(" ", f.key.Column-1+2)
		return insertAt(lines, f.key.Line, indent+"- "+item+"\n"), nil
	default:
		if len(f.config.Content) == 0 {
			return nil, fmt.Errorf("%s: its config: block is empty; add the tenants key by hand", f.name)
		}
		indent := strings.Repeat(" ", f.config.Content[0].Column-1)
		text := fmt.Sprintf("%s%s:%s:\n%s  - %s\n", indent, f.project, config.KeyTenants, indent, item)
		return insertAt(lines, lastLine(f.config), text), nil
	}
}

// remove deletes a tenant's entry; the key goes too when it was the last.
func (f *stackFile) remove(e entry) ([]byte, error) {
	lines := append([]string(nil), f.lines...)
	if f.seq.Style&yaml.FlowStyle != 0 {
		return f.removeFromFlowList(lines, e)
	}
	first, last := e.node.Line, lastLine(e.node)
	if len(f.entries) == 1 && f.key.Line == first-1 && strings.TrimSpace(lines[f.key.Line-1]) == f.key.Value+":" {
		first = f.key.Line
	}
	out := append(lines[:first-1:first-1], lines[last:]...)
	if n := len(out); last == len(lines) && n > 0 && !strings.HasSuffix(lines[last-1], "\n") {
		// The file ended without a newline on the removed lines: so it does again.
		out[n-1] = strings.TrimSuffix(out[n-1], "\n")
	}
	return []byte(strings.Join(out, "")), nil
}

// setValue sets a key of an entry: in place when the key is there, else
// added after the entry's last key.
func (f *stackFile) setValue(e entry, key, value string) ([]byte, error) {
	lines := append([]string(nil), f.lines...)
	text := yamltext.Scalar(value)
	content := e.node.Content
	for i := 0; i+1 < len(content); i += 2 {
		if content[i].Value == key {
			return replaceScalar(lines, content[i+1], value)
		}
	}
	if len(content) == 0 {
		return nil, fmt.Errorf("%s: tenant %s's entry is empty", f.name, e.ID)
	}
	lastValue := content[len(content)-1]
	if e.node.Style&yaml.FlowStyle != 0 {
		_, end, err := scalarSpan(lines, lastValue)
		if err != nil {
			return nil, err
		}
		line := lines[lastValue.Line-1]
		lines[lastValue.Line-1] = line[:end] + fmt.Sprintf(", %s: %s", key, text) + line[end:]
		return []byte(strings.Join(lines, "")), nil
	}
	indent := strings.Repeat(" ", content[0].Column-1)
	return insertAt(lines, lastLine(e.node), fmt.Sprintf("%s%s: %s\n", indent, key, text)), nil
}

func optionalScalar(v string) string {
	if v == "" {
		return ""
	}
	return yamltext.Scalar(v)
}

// checkEdit reads the edited text back and compares it with the original
// as data: the tenants must be exactly want (every entry's id, plan,
// onRemove and pool, in order), and every other setting as it was. An edit
// that reads back any other way is refused before the file is written.
func (f *stackFile) checkEdit(after []byte, want []entry) error {
	g, err := parseStackFile(after, f.name, f.project)
	if err != nil {
		return fmt.Errorf("%s: the edit would break the file (%v): edit it by hand", f.name, err)
	}
	same := len(g.entries) == len(want)
	for i := 0; same && i < len(want); i++ {
		same = g.entries[i].values() == want[i].values()
	}
	if !same {
		return fmt.Errorf("%s: the edit would not read back as the tenants asked for: edit the file by hand", f.name)
	}
	before, err := config.ParseStackFile(f.bytes(), f.name, f.project)
	if err != nil {
		return err
	}
	now, err := config.ParseStackFile(after, f.name, f.project)
	if err != nil {
		return err
	}
	tenantsKey := f.project + ":" + config.KeyTenants
	delete(before.Values, tenantsKey)
	delete(now.Values, tenantsKey)
	if !maps.Equal(before.Values, now.Values) {
		return fmt.Errorf("%s: the edit would change more than the tenants: edit the file by hand", f.name)
	}
	return nil
}

// dashPrefix is the text of an item's first line up to its content: the
// indentation and the "- ".
func (f *stackFile) dashPrefix(item *yaml.Node) (string, error) {
	line := f.lines[item.Line-1]
	start, err := byteOffset(line, item.Column)
	if err != nil {
		return "", err
	}
	prefix := line[:start]
	if strings.TrimSpace(prefix) != "-" {
		return "", fmt.Errorf("%s, line %d: cannot tell how the tenants list is indented", f.name, item.Line)
	}
	return prefix, nil
}

func (f *stackFile) addToFlowList(lines []string, item string) ([]byte, error) {
	start, end, err := flowSpan(lines, f.seq, '[', ']')
	if err != nil {
		return nil, err
	}
	line := lines[f.seq.Line-1]
	sep := ", "
	if strings.TrimSpace(line[start+1:end]) == "" {
		sep = ""
	}
	inner := strings.TrimRight(line[start+1:end], " ")
	lines[f.seq.Line-1] = line[:start+1] + inner + sep + item + line[start+1+len(inner):]
	return []byte(strings.Join(lines, "")), nil
}

func (f *stackFile) removeFromFlowList(lines []string, e entry) ([]byte, error) {
	if e.node.Style&yaml.FlowStyle == 0 {
		return nil, fmt.Errorf("%s: cannot edit the tenants list: rewrite it one entry a line", f.name)
	}
	start, end, err := flowSpan(lines, e.node, '{', '}')
	if err != nil {
		return nil, err
	}
	line := lines[e.node.Line-1]
	from, to := start, end+1 // the entry, then the separator on one side
	if after := strings.TrimLeft(line[to:], " "); strings.HasPrefix(after, ",") {
		to = len(line) - len(strings.TrimLeft(after[1:], " "))
	} else if before := strings.TrimRight(line[:from], " "); strings.HasSuffix(before, ",") {
		from = len(before) - 1
	}
	lines[e.node.Line-1] = line[:from] + line[to:]
	return []byte(strings.Join(lines, "")), nil
}

// flowSpan finds a one-line flow collection's opening and closing brackets
// (byte offsets in its line).
func flowSpan(lines []string, n *yaml.Node, open, close byte) (int, int, error) {
	if lastLine(n) != n.Line {
		return 0, 0, fmt.Errorf("line %d: a flow-style list or entry over several lines cannot be edited: write it one entry a line", n.Line)
	}
	line := lines[n.Line-1]
	start, err := byteOffset(line, n.Column)
	if err != nil || start >= len(line) || line[start] != open {
		return 0, 0, fmt.Errorf("line %d: cannot find the %q that starts the list", n.Line, open)
	}
	depth, quote := 0, byte(0)
	for i := start; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			depth--
			if depth == 0 {
				if c != close {
					break
				}
				return start, i, nil
			}
		}
	}
	return 0, 0, fmt.Errorf("line %d: cannot find the %q that ends the list", n.Line, close)
}

// replaceScalar swaps a scalar's text for value, keeping its quoting.
func replaceScalar(lines []string, n *yaml.Node, value string) ([]byte, error) {
	start, end, err := scalarSpan(lines, n)
	if err != nil {
		return nil, err
	}
	line := lines[n.Line-1]
	text := yamltext.Scalar(value)
	switch n.Style {
	case yaml.DoubleQuotedStyle:
		text = yamltext.Quoted(value)
	case yaml.SingleQuotedStyle:
		text = yamltext.SingleQuoted(value)
	}
	lines[n.Line-1] = line[:start] + text + line[end:]
	return []byte(strings.Join(lines, "")), nil
}

// scalarSpan is where a one-line scalar's text is in its line.
func scalarSpan(lines []string, n *yaml.Node) (int, int, error) {
	if n.Kind != yaml.ScalarNode || n.Line < 1 || n.Line > len(lines) {
		return 0, 0, fmt.Errorf("line %d: not a value that can be edited", n.Line)
	}
	line := lines[n.Line-1]
	start, err := byteOffset(line, n.Column)
	if err != nil {
		return 0, 0, err
	}
	text := n.Value
	switch n.Style {
	case 0, yaml.TaggedStyle:
	case yaml.DoubleQuotedStyle:
		text = `"` + n.Value + `"`
	case yaml.SingleQuotedStyle:
		text = `'` + n.Value + `'`
	default:
		return 0, 0, fmt.Errorf("line %d: %q is written in a style that cannot be edited in place", n.Line, n.Value)
	}
	if !strings.HasPrefix(line[start:], text) {
		return 0, 0, fmt.Errorf("line %d: %q is written in a way that cannot be edited in place (escapes?)", n.Line, n.Value)
	}
	return start, start + len(text), nil
}

// byteOffset turns yaml.v3's 1-based column, in characters, into a byte
// offset in the line.
func byteOffset(line string, column int) (int, error) {
	n := 1
	for i := range line {
		if n == column {
			return i, nil
		}
		n++
	}
	if n == column {
		return len(line), nil
	}
	return 0, fmt.Errorf("column %d is past the end of its line", column)
}

// lastLine is the last line any part of a node is on.
func lastLine(n *yaml.Node) int {
	last := n.Line
	for _, c := range n.Content {
		last = max(last, lastLine(c))
	}
	return last
}

// insertAt inserts text, whole lines, after line number after (1-based).
func insertAt(lines []string, after int, text string) []byte {
	out := append([]string(nil), lines[:after]...)
	if after == len(lines) && after > 0 && !strings.HasSuffix(lines[after-1], "\n") {
		// The file ends without a newline: so it does after the insertion.
		out[after-1] += "\n"
		text = strings.TrimSuffix(text, "\n")
	}
	out = append(out, text)
	out = append(out, lines[after:]...)
	return []byte(strings.Join(out, ""))
}

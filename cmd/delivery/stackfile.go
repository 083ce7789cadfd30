package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/saas-platform/saas-platform/internal/imageref"
	"github.com/saas-platform/saas-platform/internal/yamltext"
)

// stackFile is one Pulumi.<stack>.yaml: its bytes, exactly as written, and
// the YAML tree that locates keys in them. Edits splice the bytes (a value
// replaced, a line inserted) so that comments, order, quoting and blank
// lines stay as people wrote them; re-encoding the tree would not.
type stackFile struct {
	name    string // the stack, from the file name
	project string // the config namespace, e.g. saas-platform
	src     []byte
	root    *yaml.Node // the document's top-level mapping
}

// service is what the delivery tools read from a service entry; every other
// key is the program's business.
type service struct {
	Name         string     `yaml:"name"`
	Image        string     `yaml:"image"`
	ImageTag     string     `yaml:"imageTag"`
	Architecture string     `yaml:"architecture"`
	Build        *buildSpec `yaml:"build"`
	node         *yaml.Node // the entry's mapping
}

// buildSpec is a service's optional build key.
type buildSpec struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
}

// stackName returns dev for Pulumi.dev.yaml.
func stackName(path string) (string, bool) {
	base := filepath.Base(path)
	if !strings.HasPrefix(base, "Pulumi.") || !strings.HasSuffix(base, ".yaml") {
		return "", false
	}
	name := strings.TrimSuffix(strings.TrimPrefix(base, "Pulumi."), ".yaml")
	return name, name != "" && !strings.Contains(name, ".")
}

func parseStackFile(path string, src []byte, project string) (*stackFile, error) {
	name, ok := stackName(path)
	if !ok {
		name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	f := &stackFile{name: name, project: project, src: src}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	switch {
	case doc.Kind == 0: // an empty file
		f.root = &yaml.Node{Kind: yaml.MappingNode}
	case doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 && doc.Content[0].Kind == yaml.MappingNode:
		f.root = doc.Content[0]
	default:
		return nil, fmt.Errorf("%s: a stack file is a mapping at the top level", path)
	}
	return f, nil
}

// lookup returns the key and value nodes of key in a mapping.
func lookup(m *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

// servicesKey is the config key of the services list.
func (f *stackFile) servicesKey() string { return f.project + ":services" }

// services lists the stack's service entries.
func (f *stackFile) services() ([]service, error) {
	_, config := lookup(f.root, "config")
	_, list := lookup(config, f.servicesKey())
	if list == nil {
		return nil, nil
	}
	if list.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("stack %s: %s is not a list", f.name, f.servicesKey())
	}
	var out []service
	for i, n := range list.Content {
		if n.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("stack %s: %s[%d] is not a mapping", f.name, f.servicesKey(), i)
		}
		var s service
		if err := n.Decode(&s); err != nil {
			return nil, fmt.Errorf("stack %s: %s[%d]: %w", f.name, f.servicesKey(), i, err)
		}
		if s.Name == "" {
			return nil, fmt.Errorf("stack %s: %s[%d] has no name", f.name, f.servicesKey(), i)
		}
		s.node = n
		out = append(out, s)
	}
	return out, nil
}

// service returns the entry called name.
func (f *stackFile) service(name string) (service, error) {
	all, err := f.services()
	if err != nil {
		return service{}, err
	}
	for _, s := range all {
		if s.Name == name {
			return s, nil
		}
	}
	return service{}, fmt.Errorf("stack %s has no service %q", f.name, name)
}

// stackImageTag is the stack-wide imageTag, if any.
func (f *stackFile) stackImageTag() string {
	_, config := lookup(f.root, "config")
	_, v := lookup(config, f.project+":imageTag")
	if v == nil || v.Kind != yaml.ScalarNode {
		return ""
	}
	return v.Value
}

// deployedTag is the tag a service runs with in this stack: its own
// imageTag, else the stack's.
func (f *stackFile) deployedTag(s service) string {
	if s.ImageTag != "" {
		return s.ImageTag
	}
	return f.stackImageTag()
}

// tags maps each service to its own imageTag (services without one are left out).
func (f *stackFile) tags() (map[string]string, error) {
	all, err := f.services()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, s := range all {
		if s.ImageTag != "" {
			out[s.Name] = s.ImageTag
		}
	}
	return out, nil
}

// setTag sets the imageTag of one service, editing the bytes in place: an
// existing value is replaced, or a line `imageTag: <tag>` is added after the
// entry's name. It reports whether anything changed. The result is parsed
// again and must differ from the original in that one value only.
func (f *stackFile) setTag(name, tag string) (bool, error) {
	// The stack file's validator checks imageTag with this same rule.
	if !imageref.ValidTag(tag) {
		return false, fmt.Errorf("imageTag %q %s", tag, imageref.TagRule)
	}
	s, err := f.service(name)
	if err != nil {
		return false, err
	}
	if s.Image != "" {
		return false, fmt.Errorf("stack %s: service %s runs the image %s, so an imageTag would not be used; remove image first", f.name, name, s.Image)
	}
	if s.ImageTag == tag {
		return false, nil
	}
	value := yamlScalar(tag)
	lines := strings.SplitAfter(string(f.src), "\n")
	flow := s.node.Style&yaml.FlowStyle != 0
	if _, old := lookup(s.node, "imageTag"); old != nil {
		if err := replaceToken(lines, old, value, flow || inFlow(lines, old)); err != nil {
			return false, fmt.Errorf("stack %s: service %s: %w", f.name, name, err)
		}
	} else {
		nameKey, nameValue := lookup(s.node, "name")
		if flow {
			// `- {name: api, port: 3000}` becomes `- {name: api, imageTag: x, port: 3000}`.
			_, end, err := tokenSpan(lines, nameValue, true)
			if err != nil {
				return false, fmt.Errorf("stack %s: service %s: %w", f.name, name, err)
			}
			line := lines[nameValue.Line-1]
			lines[nameValue.Line-1] = line[:end] + ", imageTag: " + value + line[end:]
		} else {
			if nameValue.Line != nameKey.Line || nameValue.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
				return false, fmt.Errorf("stack %s: service %s: write its name on one line to let the tag be added", f.name, name)
			}
			at := nameKey.Line // the index of the line after the name
			eol := "\n"
			if strings.HasSuffix(lines[at-1], "\r\n") {
				eol = "\r\n"
			} else if !strings.HasSuffix(lines[at-1], "\n") {
				lines[at-1] += "\n" // the name was the file's last line, without a newline
			}
			added := strings.Repeat(" ", nameKey.Column-1) + "imageTag: " + value + eol
			lines = append(lines[:at], append([]string{added}, lines[at:]...)...)
		}
	}
	edited := []byte(strings.Join(lines, ""))
	if err := f.checkEdit(edited, name, tag); err != nil {
		return false, err
	}
	return true, f.reload(edited)
}

// reload replaces the file's bytes and tree.
func (f *stackFile) reload(src []byte) error {
	g, err := parseStackFile("Pulumi."+f.name+".yaml", src, f.project)
	if err != nil {
		return err
	}
	f.src, f.root = g.src, g.root
	return nil
}

// checkEdit parses the edited bytes and compares them with the original as
// data: only the service's imageTag may differ, and it must be tag.
func (f *stackFile) checkEdit(edited []byte, name, tag string) error {
	g, err := parseStackFile("Pulumi."+f.name+".yaml", edited, f.project)
	if err != nil {
		return fmt.Errorf("stack %s: editing the tag of %s broke the file: %w", f.name, name, err)
	}
	s, err := g.service(name)
	if err != nil || s.ImageTag != tag {
		return fmt.Errorf("stack %s: editing the tag of %s did not give imageTag %s", f.name, name, tag)
	}
	before, err := f.dataWithout(name)
	if err != nil {
		return err
	}
	after, err := g.dataWithout(name)
	if err != nil {
		return err
	}
	if !reflect.DeepEqual(before, after) {
		return fmt.Errorf("stack %s: editing the tag of %s would change more than the tag; edit the file by hand", f.name, name)
	}
	return nil
}

// dataWithout decodes the file with the named service's imageTag removed.
func (f *stackFile) dataWithout(name string) (map[string]any, error) {
	var data map[string]any
	if err := yaml.Unmarshal(f.src, &data); err != nil {
		return nil, err
	}
	config, _ := data["config"].(map[string]any)
	list, _ := config[f.servicesKey()].([]any)
	for _, item := range list {
		if m, ok := item.(map[string]any); ok && m["name"] == name {
			delete(m, "imageTag")
		}
	}
	return data, nil
}

// copyTopLevel adds `key: value` lines for the top-level scalar keys of from
// that f lacks (pulumi stack init writes the stack's secrets settings,
// encryptionsalt or secretsprovider and encryptedkey, at the top of the
// file). Existing keys are left alone.
func (f *stackFile) copyTopLevel(from *stackFile, keys []string) (bool, error) {
	var added []string
	for _, k := range keys {
		if kn, _ := lookup(f.root, k); kn != nil {
			continue
		}
		_, v := lookup(from.root, k)
		if v == nil || v.Kind != yaml.ScalarNode {
			continue
		}
		added = append(added, k+": "+yamlScalar(v.Value)+"\n")
	}
	if len(added) == 0 {
		return false, nil
	}
	lines := strings.SplitAfter(string(f.src), "\n")
	at := len(lines) // an empty file: append
	if len(f.root.Content) > 0 {
		at = f.root.Content[0].Line - 1 // before the first key, after leading comments
	}
	lines = append(lines[:at], append(added, lines[at:]...)...)
	edited := []byte(strings.Join(lines, ""))
	if err := f.reload(edited); err != nil {
		return false, err
	}
	return true, nil
}

// yamlScalar writes v so that YAML reads it back as exactly v.
func yamlScalar(v string) string { return yamltext.Scalar(v) }

// replaceToken replaces the source text of a scalar node with value.
func replaceToken(lines []string, n *yaml.Node, value string, flow bool) error {
	start, end, err := tokenSpan(lines, n, flow)
	if err != nil {
		return err
	}
	line := lines[n.Line-1]
	lines[n.Line-1] = line[:start] + value + line[end:]
	return nil
}

// inFlow reports whether a node sits inside a flow collection on its line,
// where ',' and '}' end a plain scalar.
func inFlow(lines []string, n *yaml.Node) bool {
	line := lines[n.Line-1]
	start := byteOffset(line, n.Column)
	return strings.ContainsAny(line[:start], "{[")
}

// tokenSpan finds the byte range of a single-line scalar's source text.
func tokenSpan(lines []string, n *yaml.Node, flow bool) (int, int, error) {
	if n == nil || n.Kind != yaml.ScalarNode || n.Line < 1 || n.Line > len(lines) {
		return 0, 0, errors.New("the value is not a plain one-line scalar")
	}
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 || n.Tag == "!!null" && n.Value == "" {
		return 0, 0, errors.New("the value is not a plain one-line scalar")
	}
	line := lines[n.Line-1]
	start := byteOffset(line, n.Column)
	if start >= len(line) {
		return 0, 0, errors.New("the value's position is outside its line")
	}
	end := start
	switch line[start] {
	case '"':
		end = start + 1
		for end < len(line) && line[end] != '"' {
			if line[end] == '\\' {
				end++
			}
			end++
		}
		end++
	case '\'':
		end = start + 1
		for end < len(line) {
			if line[end] == '\'' {
				if end+1 < len(line) && line[end+1] == '\'' {
					end += 2
					continue
				}
				break
			}
			end++
		}
		end++
	default:
		for end < len(line) {
			c := line[end]
			if c == '\n' || c == '\r' || flow && (c == ',' || c == '}' || c == ']') {
				break
			}
			if c == '#' && end > start && (line[end-1] == ' ' || line[end-1] == '\t') {
				break
			}
			end++
		}
		for end > start && (line[end-1] == ' ' || line[end-1] == '\t') {
			end--
		}
	}
	if end > len(line) {
		return 0, 0, errors.New("an unterminated quoted value")
	}
	var back string
	if err := yaml.Unmarshal([]byte(line[start:end]), &back); err != nil || back != n.Value {
		return 0, 0, fmt.Errorf("could not locate the value %q in line %d", n.Value, n.Line)
	}
	return start, end, nil
}

// byteOffset converts yaml.v3's 1-based character column to a byte offset.
func byteOffset(line string, column int) int {
	offset := 0
	for i := 1; i < column && offset < len(line); i++ {
		_, size := utf8.DecodeRuneInString(line[offset:])
		offset += size
	}
	return offset
}

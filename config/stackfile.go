package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// SecretPlaceholder stands in for a `secure:` value, which only the Pulumi
// CLI can decrypt.
const SecretPlaceholder = "[secret]"

// StackFile is a Pulumi stack file's configuration in the form the Pulumi
// engine hands it to a program: fully qualified keys, scalars as strings,
// objects and lists as JSON. It lets the offline plan and the tests run the
// program on the real stack files without the Pulumi CLI.
type StackFile struct {
	Values     map[string]string
	SecretKeys []string
}

// ReadStackFile reads a Pulumi.<stack>.yaml. Keys without a namespace belong
// to project, as the Pulumi CLI treats them.
func ReadStackFile(path, project string) (*StackFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading stack file: %w", err)
	}
	return ParseStackFile(data, path, project)
}

// Keys a Pulumi stack file may have at its top, besides config: the
// secrets provider's settings, which the Pulumi CLI writes itself.
var stackFileKeys = []string{"config", "secretsprovider", "encryptedkey", "encryptionsalt"}

// maxStackFileValues bounds how many values a stack file may expand to, so
// that YAML aliases cannot make a small file enormous.
const maxStackFileValues = 200000

// ParseStackFile is ReadStackFile for a stack file's content; path names it
// in messages. The file is read from its YAML nodes, not into Go maps: a key
// given twice, a key that is not a plain name, a YAML tag or merge key this
// program does not take, and a value that cannot be a number are problems
// with their key path, not values silently dropped or renamed.
func ParseStackFile(data []byte, path, project string) (*StackFile, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := dec.Decode(&doc)
	switch {
	case errors.Is(err, io.EOF):
		return nil, fileProblem("config", "is missing: "+path+" is empty; a stack file is a mapping with a config: key, such as config: {saas-platform:sizing: dev}")
	case err != nil:
		return nil, fmt.Errorf("stack file %s is not valid YAML: %w", path, err)
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return nil, fileProblem("---", "starts a second YAML document in "+path+": a stack file is one document")
	}
	top := doc.Content[0]
	if top.Kind == yaml.ScalarNode && top.ShortTag() == "!!null" {
		return nil, fileProblem("config", "is missing: "+path+" holds no settings; a stack file is a mapping with a config: key")
	}
	if top.Kind != yaml.MappingNode {
		return nil, fileProblem("config", "is missing: "+path+" is not a mapping; a stack file is a mapping with a config: key")
	}
	r := &yamlReader{project: project}
	var configNode *yaml.Node
	seen := map[string]int{}
	for i := 0; i+1 < len(top.Content); i += 2 {
		k := top.Content[i]
		name, ok := r.keyName("", k)
		if !ok {
			continue
		}
		if line, dup := seen[name]; dup {
			r.problem(PathKey(name), "", fmt.Sprintf("is given twice (lines %d and %d)", line, k.Line))
			continue
		}
		seen[name] = k.Line
		switch {
		case name == "config":
			configNode = top.Content[i+1]
		case !slices.Contains(stackFileKeys, name):
			msg := "is not a key of a stack file"
			if best := nearest(name, stackFileKeys); best != "" {
				msg += ": did you mean " + best + "?"
			}
			r.problem(PathKey(name), "", msg+"; a stack file's settings go under config:, and its other keys are "+strings.Join(stackFileKeys[1:], ", "))
		}
	}
	if configNode == nil && len(r.problems) == 0 {
		return nil, fileProblem("config", "is missing: "+path+" has no config: key, under which a stack file's settings go")
	}
	sf := &StackFile{Values: map[string]string{}}
	if configNode != nil {
		r.config(configNode, sf)
	}
	if len(r.problems) > 0 {
		return nil, &Error{Problems: r.problems}
	}
	sort.Strings(sf.SecretKeys)
	return sf, nil
}

func fileProblem(key, allowed string) error {
	return &Error{Problems: []Problem{{Key: key, Allowed: allowed}}}
}

// yamlReader turns a stack file's YAML nodes into the engine's values.
type yamlReader struct {
	project  string
	problems []Problem
	values   int // values read so far, aliases expanded
}

func (r *yamlReader) problem(key, value, allowed string) {
	r.problems = append(r.problems, Problem{Key: key, Value: value, Allowed: allowed})
}

func (r *yamlReader) config(n *yaml.Node, sf *StackFile) {
	n = resolveAlias(n)
	switch {
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null":
		return
	case n.Kind != yaml.MappingNode:
		r.problem("config", abbreviate(n.Value), "must be a mapping of settings, such as saas-platform:sizing: dev")
		return
	}
	lines := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		key, ok := r.keyName("config", k)
		if !ok {
			continue
		}
		if !strings.Contains(key, ":") {
			key = r.project + ":" + key
		}
		if line, dup := lines[key]; dup {
			r.problem(PathKey(key), "", fmt.Sprintf("is given twice (lines %d and %d)", line, k.Line))
			continue
		}
		lines[key] = k.Line
		value, secret := r.value(PathKey(key), n.Content[i+1])
		if secret {
			sf.SecretKeys = append(sf.SecretKeys, key)
		}
		sf.Values[key] = engineString(value)
	}
}

// keyName reads a mapping key: a plain scalar.
func (r *yamlReader) keyName(parent string, k *yaml.Node) (string, bool) {
	k = resolveAlias(k)
	where := parent
	if where == "" {
		where = "the top of the stack file"
	}
	switch {
	case k.Kind == yaml.AliasNode:
		r.problem(where, "", fmt.Sprintf("has a key that is a YAML alias (line %d): keys must be plain names", k.Line))
		return "", false
	case k.Kind != yaml.ScalarNode:
		r.problem(where, "", fmt.Sprintf("has a key that is a list or a mapping (line %d): keys must be plain names", k.Line))
		return "", false
	case k.ShortTag() == "!!merge":
		r.problem(where, "<<", fmt.Sprintf("is a YAML merge key (line %d), which stack files do not take: write the keys out", k.Line))
		return "", false
	}
	return k.Value, true
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// value reads a value as the engine hands it to the program: objects,
// lists, strings, true/false, numbers kept as written, and the secret
// placeholder for a {secure: ...}; secret reports whether one was met.
func (r *yamlReader) value(key string, n *yaml.Node) (any, bool) {
	r.values++
	if r.values > maxStackFileValues {
		if r.values == maxStackFileValues+1 {
			r.problem(key, "", fmt.Sprintf("makes the stack file expand to more than %d values (YAML aliases?)", maxStackFileValues))
		}
		return nil, false
	}
	n = resolveAlias(n)
	switch n.Kind {
	case yaml.MappingNode:
		if len(n.Content) == 2 && resolveAlias(n.Content[0]).Value == "secure" {
			return SecretPlaceholder, true
		}
		out := make(map[string]any, len(n.Content)/2)
		lines := map[string]int{}
		secret := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, ok := r.keyName(key, n.Content[i])
			if !ok {
				continue
			}
			if line, dup := lines[k]; dup {
				r.problem(key+"."+PathKey(k), "", fmt.Sprintf("is given twice (lines %d and %d)", line, n.Content[i].Line))
				continue
			}
			lines[k] = n.Content[i].Line
			v, s := r.value(key+"."+PathKey(k), n.Content[i+1])
			out[k], secret = v, secret || s
		}
		return out, secret
	case yaml.SequenceNode:
		out := make([]any, len(n.Content))
		secret := false
		for i, item := range n.Content {
			v, s := r.value(fmt.Sprintf("%s[%d]", key, i), item)
			out[i], secret = v, secret || s
		}
		return out, secret
	case yaml.ScalarNode:
		return r.scalar(key, n), false
	default:
		r.problem(key, "", fmt.Sprintf("cannot be read (line %d)", n.Line))
		return nil, false
	}
}

// scalar reads a YAML scalar by its resolved tag.
func (r *yamlReader) scalar(key string, n *yaml.Node) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!str", "!!timestamp":
		// A timestamp stays the text it was written as.
		return n.Value
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			r.problem(key, abbreviate(n.Value), "is not true or false")
			return nil
		}
		return b
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			r.problem(key, abbreviate(n.Value), "is a number too large to be read")
			return nil
		}
		return json.Number(strconv.FormatInt(i, 10))
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			r.problem(key, abbreviate(n.Value), "must be a finite number")
			return nil
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
	default:
		r.problem(key, abbreviate(n.Value), fmt.Sprintf("has the YAML tag %s (line %d), which stack files do not take: write a plain value", n.Tag, n.Line))
		return nil
	}
}

// engineString is a value as the engine hands it over: scalars as their
// text, objects and lists as JSON.
func engineString(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case json.Number:
		return t.String()
	case bool:
		return strconv.FormatBool(t)
	default:
		b, err := json.Marshal(t)
		if err != nil {
			// Only strings, numbers, booleans, lists and string-keyed
			// maps reach here, which always marshal.
			return ""
		}
		return string(b)
	}
}

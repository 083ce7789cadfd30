package plan

import "strings"

// OfType returns the resources of one type token.
func OfType(resources []Resource, typ string) []Resource {
	var out []Resource
	for _, r := range resources {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// Named returns the resource of a type with a logical name, if any.
func Named(resources []Resource, typ, name string) (Resource, bool) {
	for _, r := range resources {
		if r.Type == typ && r.Name == name {
			return r, true
		}
	}
	return Resource{}, false
}

// Input reads an input by a dotted path, such as "natGateways.strategy"; a
// number in the path indexes a list.
func (r Resource) Input(path string) any {
	var cur any = r.Inputs
	for _, part := range strings.Split(path, ".") {
		switch node := cur.(type) {
		case map[string]any:
			cur = node[part]
		case []any:
			i := 0
			for _, c := range part {
				if c < '0' || c > '9' {
					return nil
				}
				i = i*10 + int(c-'0')
			}
			if i >= len(node) {
				return nil
			}
			cur = node[i]
		default:
			return nil
		}
	}
	return cur
}

// Count is the length of a list input, 0 when absent: with it, a test reads
// a list's items as "path.0.key", "path.1.key", ...
func (r Resource) Count(path string) int {
	items, _ := r.Input(path).([]any)
	return len(items)
}

// String reads a string input, "" when absent.
func (r Resource) String(path string) string {
	s, _ := r.Input(path).(string)
	return s
}

// Strings reads a list-of-strings input.
func (r Resource) Strings(path string) []string {
	items, _ := r.Input(path).([]any)
	out := make([]string, 0, len(items))
	for _, item := range items {
		if s, ok := item.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Number reads a numeric input, 0 when absent.
func (r Resource) Number(path string) float64 {
	n, _ := r.Input(path).(float64)
	return n
}

// Bool reads a boolean input, false when absent.
func (r Resource) Bool(path string) bool {
	b, _ := r.Input(path).(bool)
	return b
}

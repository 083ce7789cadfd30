package config

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The stack-file decoder. encoding/json matches keys case-insensitively
// (`CIDR`, `Cidr` and `cidr` all land on one field, and the last one wins),
// names Go types in its errors and stops at the first problem. This decoder
// is strict and generic instead: the keys allowed at every depth are the
// json tags of the config structs (the `pulumi` tags for the AWS provider's
// own types), fields of embedded structs included, compared case-sensitively;
// every unknown key and every value of the wrong type is a Problem naming
// its full path, the value and what is allowed. A struct field needs nothing
// but its json tag to be read.
//
// A type with its own UnmarshalJSON (a shorthand such as a string for a
// list) is handed every form but an object; an object given to a struct
// type is always decoded here, by its tags, so that a shorthand cannot
// reopen case-insensitive keys.

// decodeValue decodes raw, the engine's text of a value (JSON for objects
// and lists), onto target, which may hold defaults that absent keys keep.
// key is the value's full path in messages; secret hides values.
func (p *parser) decodeValue(key, raw string, target any, secret bool) {
	v, err := parseJSON(raw)
	if err != nil {
		// Not JSON: the stack file gave a plain scalar where the key takes
		// an object or a list.
		v = raw
	}
	d := &decoder{p: p, secret: secret}
	d.value(key, v, reflect.ValueOf(target).Elem())
}

// parseJSON reads one JSON value, numbers kept as written.
func parseJSON(raw string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("more than one value")
	}
	return v, nil
}

type decoder struct {
	p      *parser
	secret bool
}

func (d *decoder) problem(key string, v any, allowed string) {
	d.p.problem(key, d.show(v), allowed)
	if d.p.unreadable == nil {
		d.p.unreadable = map[string]bool{}
	}
	d.p.unreadable[key] = true
}

// show renders a value as the stack file wrote it, short.
func (d *decoder) show(v any) string {
	if d.secret {
		return SecretPlaceholder
	}
	if v == nil {
		return "null"
	}
	return abbreviate(engineString(v))
}

var unmarshalerType = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()

func (d *decoder) value(key string, v any, out reflect.Value) {
	if v == nil {
		// null, as YAML writes an empty value: the key is as good as absent.
		return
	}
	t := out.Type()
	_, isObject := v.(map[string]any)
	if reflect.PointerTo(t).Implements(unmarshalerType) && !(t.Kind() == reflect.Struct && isObject) {
		d.custom(key, v, out)
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		if out.IsNil() {
			out.Set(reflect.New(t.Elem()))
		}
		d.value(key, v, out.Elem())
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			d.problem(key, v, "must be a string, not "+kindOf(v)+quoteHint(v))
			return
		}
		out.SetString(s)
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			d.problem(key, v, "must be true or false, not "+kindOf(v))
			return
		}
		out.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			d.problem(key, v, "must be a number, not "+kindOf(v))
			return
		}
		i, err := strconv.ParseInt(n.String(), 10, 64)
		if err != nil || out.OverflowInt(i) {
			d.problem(key, v, "must be a whole number"+intRange(t))
			return
		}
		out.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := v.(json.Number)
		if !ok {
			d.problem(key, v, "must be a number, not "+kindOf(v))
			return
		}
		u, err := strconv.ParseUint(n.String(), 10, 64)
		if err != nil || out.OverflowUint(u) {
			d.problem(key, v, "must be a whole number, 0 or more")
			return
		}
		out.SetUint(u)
	case reflect.Float32, reflect.Float64:
		n, ok := v.(json.Number)
		if !ok {
			d.problem(key, v, "must be a number, not "+kindOf(v))
			return
		}
		f, err := strconv.ParseFloat(n.String(), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || out.OverflowFloat(f) {
			d.problem(key, v, "must be a finite number")
			return
		}
		out.SetFloat(f)
	case reflect.Slice:
		items, ok := v.([]any)
		if !ok {
			d.problem(key, v, "must be a list"+elementShape(t.Elem())+", not "+kindOf(v))
			return
		}
		list := reflect.MakeSlice(t, len(items), len(items))
		for i, item := range items {
			d.value(fmt.Sprintf("%s[%d]", key, i), item, list.Index(i))
		}
		out.Set(list)
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok || t.Key().Kind() != reflect.String {
			d.problem(key, v, "must be a map of names to"+elementShape(t.Elem())+", not "+kindOf(v))
			return
		}
		if out.IsNil() {
			out.Set(reflect.MakeMapWithSize(t, len(m)))
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			elem := reflect.New(t.Elem()).Elem()
			if existing := out.MapIndex(reflect.ValueOf(k).Convert(t.Key())); existing.IsValid() {
				elem.Set(existing)
			}
			d.value(key+"."+PathKey(k), m[k], elem)
			out.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), elem)
		}
	case reflect.Struct:
		m, ok := v.(map[string]any)
		fields := fieldsOf(t)
		if !ok {
			d.problem(key, v, "must be an object with the keys "+strings.Join(fields.names, ", ")+", not "+kindOf(v))
			return
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			index, known := fields.index[k]
			if !known {
				d.p.problem(key+"."+PathKey(k), "", unknownKey(k, fields.names, key))
				continue
			}
			d.value(key+"."+PathKey(k), m[k], out.FieldByIndex(index))
		}
	case reflect.Interface:
		out.Set(reflect.ValueOf(v))
	default:
		d.problem(key, v, "cannot be read from a stack file")
	}
}

// custom hands a value to its type's own UnmarshalJSON; its message is
// kept only when it speaks the stack file's language.
func (d *decoder) custom(key string, v any, out reflect.Value) {
	b, err := json.Marshal(v)
	if err == nil {
		err = out.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(b)
	}
	if err == nil {
		return
	}
	msg := err.Error()
	if strings.Contains(msg, "json:") || strings.Contains(msg, "Go ") || strings.Contains(msg, "interface {}") {
		msg = "is not in a form this key accepts"
	}
	d.problem(key, v, msg)
}

// structFields are the keys a struct accepts, in declaration order, and
// where each lands.
type structFields struct {
	names []string
	index map[string][]int
}

// fieldsOf lists a struct's stack-file keys: its json tags (else its
// pulumi tags), and those of its embedded structs, as if they were its own.
func fieldsOf(t reflect.Type) structFields {
	f := structFields{index: map[string][]int{}}
	var walk func(t reflect.Type, prefix []int)
	walk = func(t reflect.Type, prefix []int) {
		for i := 0; i < t.NumField(); i++ {
			field := t.Field(i)
			index := append(append([]int{}, prefix...), i)
			name := strings.Split(field.Tag.Get("json"), ",")[0]
			if name == "" {
				name = field.Tag.Get("pulumi")
			}
			if field.Anonymous && name == "" && field.Type.Kind() == reflect.Struct {
				walk(field.Type, index)
				continue
			}
			if name == "" || name == "-" || !field.IsExported() {
				continue
			}
			if _, dup := f.index[name]; !dup {
				f.names = append(f.names, name)
			}
			f.index[name] = index
		}
	}
	walk(t, nil)
	return f
}

// unknownKey explains a key that is not allowed where it is, with the
// nearest allowed key when one is close.
func unknownKey(k string, allowed []string, parent string) string {
	msg := "is not a known key"
	if best := nearest(k, allowed); best != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", best)
	}
	if len(allowed) == 0 {
		return msg + ": " + parent + " takes no keys"
	}
	return msg + ": keys allowed in " + parent + " are " + strings.Join(allowed, ", ")
}

// nearest is the candidate closest to k, when close enough to be a typo:
// the same word in another case, or a few edits away.
func nearest(k string, candidates []string) string {
	best, bestDistance := "", math.MaxInt
	limit := max(2, len(k)/3)
	for _, c := range candidates {
		d := editDistance(strings.ToLower(k), strings.ToLower(c))
		if d == 0 {
			return c
		}
		if d <= limit && d < bestDistance {
			best, bestDistance = c, d
		}
	}
	return best
}

var plainKey = regexp.MustCompile(`^[A-Za-z0-9_:./@+*$-]+$`)

// PathKey is a key as it appears in a key path: quoted when it is empty or
// holds anything but a plain name's characters, so that every path reads
// unambiguously and no control character reaches a terminal.
func PathKey(k string) string {
	if plainKey.MatchString(k) {
		return k
	}
	return strconv.Quote(k)
}

// kindOf names a value's kind as a stack file's author knows it.
func kindOf(v any) string {
	switch t := v.(type) {
	case nil:
		return "empty"
	case string:
		return "text"
	case json.Number:
		return "a number"
	case bool:
		return "true/false"
	case []any:
		return "a list"
	case map[string]any:
		if len(t) == 1 {
			if _, ok := t["secure"]; ok {
				return "a secret"
			}
		}
		return "an object"
	default:
		return "a value of another kind"
	}
}

// quoteHint tells the author of `engineVersion: 16` to quote it.
func quoteHint(v any) string {
	switch v.(type) {
	case json.Number, bool:
		return fmt.Sprintf(` (quote it in YAML: "%v")`, v)
	}
	return ""
}

// elementShape describes what a list or map holds.
func elementShape(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) && t.Kind() != reflect.Struct {
		return ""
	}
	switch t.Kind() {
	case reflect.String:
		return " of strings"
	case reflect.Bool:
		return " of true/false values"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return " of numbers"
	case reflect.Struct:
		return " of objects with the keys " + strings.Join(fieldsOf(t).names, ", ")
	case reflect.Slice:
		return " of lists"
	case reflect.Map:
		return " of maps"
	}
	return ""
}

func intRange(t reflect.Type) string {
	if t.Kind() == reflect.Int64 || t.Kind() == reflect.Int {
		return ""
	}
	bits := t.Bits()
	return fmt.Sprintf(" between %d and %d", -(int64(1) << (bits - 1)), int64(1)<<(bits-1)-1)
}

package config

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
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

// ParseStackFile is ReadStackFile for a stack file's content; path names it
// in messages.
func ParseStackFile(data []byte, path, project string) (*StackFile, error) {
	var doc struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("stack file %s is not valid YAML: %w", path, err)
	}
	sf := &StackFile{Values: map[string]string{}}
	for key, raw := range doc.Config {
		if !strings.Contains(key, ":") {
			key = project + ":" + key
		}
		value, secret := replaceSecrets(raw)
		if secret {
			sf.SecretKeys = append(sf.SecretKeys, key)
		}
		s, err := engineString(value)
		if err != nil {
			return nil, fmt.Errorf("stack file %s, key %s: %w", path, key, err)
		}
		sf.Values[key] = s
	}
	sort.Strings(sf.SecretKeys)
	return sf, nil
}

// replaceSecrets swaps every {secure: ...} value for the placeholder.
func replaceSecrets(v any) (any, bool) {
	switch t := v.(type) {
	case map[string]any:
		if _, ok := t["secure"]; ok && len(t) == 1 {
			return SecretPlaceholder, true
		}
		secret := false
		for k, item := range t {
			var s bool
			t[k], s = replaceSecrets(item)
			secret = secret || s
		}
		return t, secret
	case []any:
		secret := false
		for i, item := range t {
			var s bool
			t[i], s = replaceSecrets(item)
			secret = secret || s
		}
		return t, secret
	default:
		return v, false
	}
}

func engineString(v any) (string, error) {
	switch t := v.(type) {
	case nil:
		return "", nil
	case string:
		return t, nil
	case map[string]any, []any:
		b, err := json.Marshal(t)
		return string(b), err
	default:
		return fmt.Sprint(t), nil
	}
}

package yamltext_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.yaml.in/yaml/v3"

	"github.com/saas-platform/saas-platform/internal/yamltext"
)

func TestEveryValueReadsBackAsExactlyThatStringInBlockAndFlowContext(t *testing.T) {
	for _, v := range []string{
		"acme", "enterprise", "dev-abc1234", "v1.2.3", "", "1234567", "1e10", "0x1F", "true", "yes", "null", "~",
		"enterprise, onRemove: drop", "acme}", "a]b", "a: b", "- x", "#x", "x #y", "&a", "*a", "!tag", "|", ">", "%x", "@x", "`x`",
		"it's", `say "hi"`, "back\\slash", "line\nbreak", "tab\there", "\x00nul", "ünïcode", " lead", "trail ",
	} {
		text := yamltext.Scalar(v)
		var block struct{ K string }
		if assert.NoError(t, yaml.Unmarshal([]byte("k: "+text+"\n"), &block), v) {
			assert.Equal(t, v, block.K, "block: %q written as %s", v, text)
		}
		var flow struct{ List []map[string]string }
		if assert.NoError(t, yaml.Unmarshal([]byte("list: [{k: "+text+", other: x}]\n"), &flow), v) && assert.Len(t, flow.List, 1, v) {
			assert.Equal(t, map[string]string{"k": v, "other": "x"}, flow.List[0], "flow: %q written as %s", v, text)
		}
		single := yamltext.SingleQuoted(v)
		var s struct{ K string }
		if assert.NoError(t, yaml.Unmarshal([]byte("k: "+single+"\n"), &s), v) {
			assert.Equal(t, v, s.K, "single-quoted: %q written as %s", v, single)
		}
	}
	assert.Equal(t, "acme", yamltext.Scalar("acme"), "an ordinary value stays plain")
}

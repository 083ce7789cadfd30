// Package imageref holds the rules for container image references and
// tags, shared by the stack-file validator and the delivery tool (which
// writes tags into stack files): one rule, one implementation. It imports
// only the standard library.
package imageref

import (
	"regexp"
	"strings"
)

// TagRule says what an image tag may be.
const TagRule = "must be a Docker tag: letters, digits, _ . -, at most 128 characters, not starting with . or -"

var tag = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// ValidTag reports whether t is an image tag.
func ValidTag(t string) bool { return tag.MatchString(t) }

// Rule says what an image reference may be.
const Rule = "must be an image reference such as public.ecr.aws/nginx/nginx:1.27 or " +
	"registry.example.com:5000/team/app@sha256:<64 hex digits>: [registry/]path[:tag][@digest], lowercase path"

// The OCI distribution reference grammar (distribution/reference), without
// IPv6 registry addresses: nothing in it is shell or YAML syntax.
var reference = func() *regexp.Regexp {
	domainComponent := `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`
	domain := domainComponent + `(?:\.` + domainComponent + `)*(?::[0-9]+)?`
	pathComponent := `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
	name := `(?:` + domain + `/)?` + pathComponent + `(?:/` + pathComponent + `)*`
	digest := `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`
	return regexp.MustCompile(`^` + name + `(?::` + tag.String()[1:len(tag.String())-1] + `)?(?:@` + digest + `)?$`)
}()

// Valid reports whether s is an image reference by the OCI grammar, its
// name at most 255 characters.
func Valid(s string) bool {
	name, _, _ := strings.Cut(s, "@")
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name = name[:i]
	}
	return len(name) <= 255 && reference.MatchString(s)
}

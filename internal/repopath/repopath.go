// Package repopath is the one rule for paths into this repository that a
// stack file may give (a service's build.context and build.dockerfile):
// the config validator and the delivery tool both call Check, so a path one
// accepts the other never refuses. It imports only the standard library.
package repopath

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
)

// Rule says, for messages, what a repository path may be.
const Rule = "must be a path inside this repository, relative to its root, such as services/api: " +
	"letters, digits and . _ - separated by /, no .. and not starting with / or -"

var allowed = regexp.MustCompile(`^[A-Za-z0-9._/-]+$`)

// Check tells whether p names a file or directory inside the repository.
// A path that leaves it (/etc, ../x, a/../../x), that a tool could read as
// an option (-f), or that holds characters a shell or a YAML file could
// misread, is refused.
func Check(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("is empty: %s", Rule)
	case len(p) > 1024:
		return fmt.Errorf("is %d characters long: at most 1024", len(p))
	case !allowed.MatchString(p):
		return fmt.Errorf("has characters a path here may not have: %s", Rule)
	case path.IsAbs(p):
		return fmt.Errorf("is absolute: %s", Rule)
	case strings.HasPrefix(p, "-"):
		return fmt.Errorf("starts with -, which a tool would read as an option: %s", Rule)
	case slices.Contains(strings.Split(p, "/"), ".."):
		return fmt.Errorf("goes up with ..: %s", Rule)
	}
	return nil
}

// Clean is p in its shortest form, once Check accepted it.
func Clean(p string) string { return path.Clean(p) }

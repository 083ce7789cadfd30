// Package awsname owns how the program shortens the names it gives AWS
// resources whose names have a length limit: unique and stable however
// long the stack's identifiers grow.
package awsname

import (
	"crypto/sha256"
	"encoding/hex"
)

// Suffixed is <name>-<suffix>, or, when that is longer than max, the
// name cut short followed by a hash of the whole and the suffix: two long
// names that differ anywhere still differ, the same name always gives the
// same result, and the suffix stays readable.
func Suffixed(name, suffix string, max int) string {
	full := name + "-" + suffix
	if len(full) <= max {
		return full
	}
	sum := sha256.Sum256([]byte(full))
	tail := "-" + hex.EncodeToString(sum[:])[:8] + "-" + suffix
	return name[:max-len(tail)] + tail
}

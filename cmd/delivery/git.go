package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"regexp"
	"sort"
	"strings"
)

// endOfOptions goes before every revision or path that comes from a user
// or a file (a --base flag, a tag read from a stack file): after it git
// reads `--output=/etc/x` as a revision to look up, never as an option.
const endOfOptions = "--end-of-options"

// repo runs git in a working tree.
type repo struct{ dir string }

func (r repo) git(args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// commitPattern is what a commit sha looks like; other tags (latest, v1.2)
// are never looked up in git, where they could name a branch.
var commitPattern = regexp.MustCompile(`^[0-9a-f]{7,40}$`)

// isCommit reports whether rev names a commit of this repository.
func (r repo) isCommit(rev string) bool {
	if !commitPattern.MatchString(rev) {
		return false
	}
	_, err := r.git("rev-parse", "--verify", "--quiet", endOfOptions, rev+"^{commit}")
	return err == nil
}

// changed lists the files that differ between two revisions (to "" means
// the working tree), limited to paths when given.
func (r repo) changed(from, to string, paths ...string) ([]string, error) {
	args := []string{"diff", "--name-only", "--no-renames", endOfOptions, from}
	if to != "" {
		args = append(args, to)
	}
	if len(paths) > 0 {
		args = append(append(args, "--"), paths...)
	}
	out, err := r.git(args...)
	if err != nil {
		return nil, err
	}
	return strings.Fields(out), nil
}

// show returns a file's content at a revision, and false when the file
// does not exist there.
func (r repo) show(rev, path string) ([]byte, bool, error) {
	if _, err := r.git("cat-file", "-e", endOfOptions, rev+":"+path); err != nil {
		if _, err := r.git("rev-parse", "--verify", "--quiet", endOfOptions, rev+"^{commit}"); err != nil {
			return nil, false, fmt.Errorf("%s is not a commit of this repository", rev)
		}
		return nil, false, nil
	}
	out, err := r.git("show", endOfOptions, rev+":"+path)
	return []byte(out), err == nil, err
}

// stackFiles lists the stack files (Pulumi.<stack>.yaml) at the top of a revision.
func (r repo) stackFiles(rev string) ([]string, error) {
	out, err := r.git("ls-tree", "--name-only", endOfOptions, rev)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, name := range strings.Fields(out) {
		if _, ok := stackName(name); ok {
			files = append(files, name)
		}
	}
	sort.Strings(files)
	return files, nil
}

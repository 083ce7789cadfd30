package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/saas-platform/saas-platform/internal/imageref"
)

// tagChange is one service whose imageTag a change would move.
type tagChange struct {
	File, Service, From, To string
}

func (c tagChange) String() string {
	show := func(t string) string {
		if t == "" {
			return "(none)"
		}
		return t
	}
	return fmt.Sprintf("%s: service %s: imageTag %s -> %s", c.File, c.Service, show(c.From), show(c.To))
}

// tagChanges compares the per-service imageTags of the stack files at two
// revisions (file name -> content; a file missing on one side is new or
// deleted, which moves no deployed tag). A service that exists on both sides
// and whose own imageTag differs (set, changed or removed) is a change;
// services added or removed are not.
func tagChanges(project string, base, head map[string][]byte) ([]tagChange, error) {
	names := make([]string, 0, len(head))
	for name := range head {
		if _, ok := base[name]; ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var out []tagChange
	for _, name := range names {
		before, err := parseStackFile(name, base[name], project)
		if err != nil {
			return nil, err
		}
		after, err := parseStackFile(name, head[name], project)
		if err != nil {
			return nil, err
		}
		old, err := before.services()
		if err != nil {
			return nil, err
		}
		now, err := after.services()
		if err != nil {
			return nil, err
		}
		tags := map[string]string{}
		for _, s := range old {
			tags[s.Name] = s.ImageTag
		}
		for _, s := range now {
			from, existed := tags[s.Name]
			if existed && from != s.ImageTag {
				out = append(out, tagChange{File: name, Service: s.Name, From: from, To: s.ImageTag})
			}
		}
	}
	return out, nil
}

// promotions lists, as name=tag, the services whose imageTag in the next
// stack (prod) should become the one the previous stack (dev) runs: every
// service both stacks have, that the next stack pulls from its own
// repository (no image key) and the previous one runs at a tag of its own.
func promotions(from, to *stackFile) ([]string, error) {
	source, err := from.services()
	if err != nil {
		return nil, err
	}
	tags := map[string]string{}
	for _, s := range source {
		if s.Image == "" && s.ImageTag != "" {
			tags[s.Name] = s.ImageTag
		}
	}
	dest, err := to.services()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range dest {
		if tag, ok := tags[s.Name]; ok && s.Image == "" && s.ImageTag != tag {
			out = append(out, s.Name+"="+tag)
		}
	}
	return out, nil
}

// parseAssignments reads name=tag arguments.
func parseAssignments(args []string) ([][2]string, error) {
	var out [][2]string
	seen := map[string]bool{}
	for _, a := range args {
		for _, field := range strings.Fields(a) { // "api=x hello=y" as one argument too
			name, tag, ok := strings.Cut(field, "=")
			if !ok || name == "" || tag == "" {
				return nil, fmt.Errorf("%q: expected service=tag", field)
			}
			if !imageref.ValidTag(tag) {
				return nil, fmt.Errorf("%q: imageTag %q %s", field, tag, imageref.TagRule)
			}
			if seen[name] {
				return nil, fmt.Errorf("service %s is given twice", name)
			}
			seen[name] = true
			out = append(out, [2]string{name, tag})
		}
	}
	return out, nil
}

package main

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/saas-platform/saas-platform/internal/repopath"
)

// servicesDir holds the services built from this repository by convention:
// services/<name>/Dockerfile, built with services/<name> as the context.
const servicesDir = "services"

// target is one image this repository builds.
type target struct {
	Name       string   `json:"name"`
	Context    string   `json:"context"`
	Dockerfile string   `json:"dockerfile"`
	Platforms  string   `json:"platforms"` // docker buildx --platform
	MultiArch  bool     `json:"multiArch"`
	Stacks     []string `json:"stacks"` // the stacks that run this image
	Push       bool     `json:"push"`   // pushed to the push stack's repository
	Reason     string   `json:"reason"` // why it is built this time
}

// paths are what a change must touch to rebuild the image.
func (t target) paths() []string {
	if t.Context == "." {
		return nil // the whole repository
	}
	return []string{t.Context, t.Dockerfile}
}

// buildTargets lists the images the stack files ask this repository to
// build: a service without `image` that has a `build` key, or a Dockerfile
// at services/<name>/. The other Dockerfiles under services/ are built too,
// never pushed: a new service that no stack file lists yet, or one that
// still runs a placeholder `image` everywhere; their pull requests prove
// the image before a stack runs it.
func buildTargets(dir string, files []*stackFile, pushStack string) ([]target, error) {
	byName := map[string]*target{}
	for _, f := range files {
		services, err := f.services()
		if err != nil {
			return nil, err
		}
		for _, s := range services {
			if s.Image != "" {
				continue // "not built here" in this stack
			}
			context, dockerfile, ok, err := buildSource(dir, f.name, s)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue // its image comes from elsewhere (its imageTag names it)
			}
			t := byName[s.Name]
			if t == nil {
				t = &target{Name: s.Name, Context: context, Dockerfile: dockerfile}
				byName[s.Name] = t
			} else if t.Context != context || t.Dockerfile != dockerfile {
				// One image per service, promoted from stack to stack.
				return nil, fmt.Errorf("service %s is built from %s (%s) in stack %s but from %s (%s) in stack %s: one image must serve every stack",
					s.Name, context, dockerfile, f.name, t.Context, t.Dockerfile, t.Stacks[0])
			}
			t.Stacks = append(t.Stacks, f.name)
			if strings.EqualFold(s.Architecture, "arm64") {
				t.MultiArch = true
			}
		}
	}
	entries, err := os.ReadDir(filepath.Join(dir, servicesDir))
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || byName[name] != nil {
			continue
		}
		dockerfile := path.Join(servicesDir, name, "Dockerfile")
		if _, err := os.Stat(filepath.Join(dir, dockerfile)); err != nil {
			continue
		}
		byName[name] = &target{Name: name, Context: path.Join(servicesDir, name), Dockerfile: dockerfile}
	}

	out := make([]target, 0, len(byName))
	for _, t := range byName {
		t.Platforms = "linux/amd64"
		if t.MultiArch {
			t.Platforms = "linux/amd64,linux/arm64"
		}
		for _, s := range t.Stacks {
			if s == pushStack {
				t.Push = true
			}
		}
		if t.Stacks == nil {
			t.Stacks = []string{}
		}
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// buildSource returns a service's build context and Dockerfile, relative
// to the repository, and false when the repository does not build it.
func buildSource(dir, stack string, s service) (string, string, bool, error) {
	if s.Build == nil {
		context := path.Join(servicesDir, s.Name)
		dockerfile := path.Join(context, "Dockerfile")
		if _, err := os.Stat(filepath.Join(dir, dockerfile)); err != nil {
			return "", "", false, nil
		}
		return context, dockerfile, true, nil
	}
	context := s.Build.Context
	if context == "" {
		context = path.Join(servicesDir, s.Name)
	}
	dockerfile := s.Build.Dockerfile
	if dockerfile == "" {
		dockerfile = path.Join(context, "Dockerfile")
	}
	// The stack file's validator checks these paths with the same rule.
	for _, p := range [][2]string{{"build.context", context}, {"build.dockerfile", dockerfile}} {
		if err := repopath.Check(p[1]); err != nil {
			return "", "", false, fmt.Errorf("stack %s: service %s: %s %q %v", stack, s.Name, p[0], p[1], err)
		}
	}
	context, dockerfile = path.Clean(context), path.Clean(dockerfile)
	if info, err := os.Stat(filepath.Join(dir, context)); err != nil || !info.IsDir() {
		return "", "", false, fmt.Errorf("stack %s: service %s: build.context %s is not a directory", stack, s.Name, context)
	}
	if _, err := os.Stat(filepath.Join(dir, dockerfile)); err != nil {
		return "", "", false, fmt.Errorf("stack %s: service %s: build.dockerfile %s does not exist", stack, s.Name, dockerfile)
	}
	return context, dockerfile, true, nil
}

// touches reports whether any changed file is under the target's paths.
func (t target) touches(files []string) []string {
	var hit []string
	for _, f := range files {
		if t.Context == "." || f == t.Dockerfile || strings.HasPrefix(f, t.Context+"/") {
			hit = append(hit, f)
		}
	}
	return hit
}

// changedSince keeps the targets a diff touches (pull requests: the diff
// between the base branch and the merge commit).
func changedSince(targets []target, changed []string) []target {
	var out []target
	for _, t := range targets {
		if hit := t.touches(changed); len(hit) > 0 {
			t.Reason = "changed: " + summarize(hit)
			out = append(out, t)
		}
	}
	return out
}

// changedSinceDeployed keeps the pushed targets whose source changed since
// the commit their deployed tag names in the deployed stack file, and those
// with no such commit (never deployed, or a tag that is not a commit of
// this repository). Comparing with what is deployed, not with the previous
// push, means a run that failed or was cancelled leaves nothing behind:
// the next run builds it.
func changedSinceDeployed(r repo, targets []target, deployed *stackFile, head string) ([]target, error) {
	var out []target
	for _, t := range targets {
		if !t.Push {
			continue
		}
		tag := ""
		if s, err := deployed.service(t.Name); err == nil {
			tag = deployed.deployedTag(s)
		}
		switch {
		case tag == "":
			t.Reason = "no tag deployed in " + deployed.name
		case !r.isCommit(tag):
			t.Reason = fmt.Sprintf("deployed tag %s is not a commit of this repository", tag)
		default:
			hit, err := r.changed(tag, head, t.paths()...)
			if err != nil {
				return nil, err
			}
			if len(hit) == 0 {
				continue
			}
			t.Reason = fmt.Sprintf("changed since %s: %s", short(tag), summarize(hit))
		}
		out = append(out, t)
	}
	return out, nil
}

func summarize(files []string) string {
	if len(files) <= 3 {
		return strings.Join(files, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(files[:3], ", "), len(files)-3)
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

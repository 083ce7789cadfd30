package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const project = "saas-platform"

func mustParse(t *testing.T, src string) *stackFile {
	t.Helper()
	f, err := parseStackFile("Pulumi.dev.yaml", []byte(src), project)
	require.NoError(t, err)
	return f
}

const devStack = `# The dev environment.
config:
  aws:region: ap-northeast-1
  saas-platform:sizing: dev
  saas-platform:services:
    - name: api            # the public API
      port: 3000
      paths: ["/api/*"]
    - name: hello
      imageTag: 0123456789abcdef0123456789abcdef01234567   # set by the deploy workflow
      port: 3005

    - name: dashboard
      image: public.ecr.aws/nginx/nginx:1.27
    - {name: worker, port: 3009}
    - {name: cron, imageTag: "v1", schedule: "cron(0 3 * * ? *)"}
    - name: notification
      image: &placeholder public.ecr.aws/docker/library/node:22-alpine
      command: &ok ["node", "-e", "require('http').createServer((q, r) => r.end('ok')).listen(8080)"]
    - name: analytics
      image: *placeholder
      command: *ok
    - name: reports
      port: 3004
      environment:
        API_URL: ${services.api.url}
      secrets:
        JWT_SECRET: {generate: true}
  saas-platform:tenants:
    - {id: acme, plan: premium}
`

func TestSetTagAddsALineAfterTheName(t *testing.T) {
	f := mustParse(t, devStack)
	changed, err := f.setTag("api", "feedbeef")
	require.NoError(t, err)
	assert.True(t, changed)
	want := strings.Replace(devStack, "    - name: api            # the public API\n",
		"    - name: api            # the public API\n      imageTag: feedbeef\n", 1)
	assert.Equal(t, want, string(f.src))
}

func TestSetTagReplacesOnlyTheValue(t *testing.T) {
	f := mustParse(t, devStack)
	_, err := f.setTag("hello", "1111111111111111111111111111111111111111")
	require.NoError(t, err)
	want := strings.Replace(devStack, "0123456789abcdef0123456789abcdef01234567   # set by",
		`"1111111111111111111111111111111111111111"   # set by`, 1)
	assert.Equal(t, want, string(f.src), "an all-digit tag is quoted, or YAML would read a number; the comment stays")

	changed, err := f.setTag("hello", "1111111111111111111111111111111111111111")
	require.NoError(t, err)
	assert.False(t, changed, "setting the same tag changes nothing")
}

func TestSetTagInFlowMappings(t *testing.T) {
	f := mustParse(t, devStack)
	_, err := f.setTag("worker", "abc1234")
	require.NoError(t, err)
	_, err = f.setTag("cron", "v2")
	require.NoError(t, err)
	assert.Contains(t, string(f.src), "    - {name: worker, imageTag: abc1234, port: 3009}\n")
	assert.Contains(t, string(f.src), `    - {name: cron, imageTag: v2, schedule: "cron(0 3 * * ? *)"}`+"\n")
}

func TestSetTagAmongAnchorsAndNestedKeys(t *testing.T) {
	f := mustParse(t, devStack)
	_, err := f.setTag("reports", "abc1234")
	require.NoError(t, err)
	assert.Contains(t, string(f.src), "    - name: reports\n      imageTag: abc1234\n      port: 3004\n      environment:\n")
	_, err = f.setTag("analytics", "abc1234")
	assert.ErrorContains(t, err, "runs the image public.ecr.aws/docker/library/node:22-alpine", "an image given by an alias is an image")
}

func TestSetTagRefusesWhatItCannotDoSafely(t *testing.T) {
	f := mustParse(t, devStack)
	_, err := f.setTag("dashboard", "abc1234")
	assert.ErrorContains(t, err, "runs the image public.ecr.aws/nginx/nginx:1.27")
	_, err = f.setTag("billing", "abc1234")
	assert.ErrorContains(t, err, `no service "billing"`)
	_, err = f.setTag("api", "not a tag")
	assert.ErrorContains(t, err, "must be a Docker tag")
	_, err = f.setTag("api", "x:y")
	assert.ErrorContains(t, err, "must be a Docker tag")
	assert.Equal(t, devStack, string(f.src), "nothing was edited")
}

func TestSetTagOnTheLastLineAndWithCRLF(t *testing.T) {
	f := mustParse(t, "config:\n  saas-platform:services:\n    - name: api")
	_, err := f.setTag("api", "abc1234")
	require.NoError(t, err)
	assert.Equal(t, "config:\n  saas-platform:services:\n    - name: api\n      imageTag: abc1234\n", string(f.src))

	crlf := "config:\r\n  saas-platform:services:\r\n  - name: api\r\n    port: 1\r\n"
	f = mustParse(t, crlf)
	_, err = f.setTag("api", "abc1234")
	require.NoError(t, err)
	assert.Equal(t, "config:\r\n  saas-platform:services:\r\n  - name: api\r\n    imageTag: abc1234\r\n    port: 1\r\n", string(f.src))
}

// The repository's own stack files take a tag with a one-line diff.
func TestSetTagOnTheRepositoryStackFiles(t *testing.T) {
	const tag = "0123456789abcdef0123456789abcdef01234567"
	for _, name := range []string{"Pulumi.dev.yaml", "Pulumi.prod.yaml"} {
		raw, err := os.ReadFile(filepath.Join("..", "..", name))
		require.NoError(t, err)
		f, err := parseStackFile(name, raw, project)
		require.NoError(t, err)
		services, err := f.services()
		require.NoError(t, err)
		var target *service
		for i := range services {
			if services[i].Image == "" && services[i].ImageTag != tag {
				target = &services[i]
				break
			}
		}
		if target == nil {
			// Every service runs a full image reference (a placeholder
			// until its image is built): nothing to set, and nothing set.
			_, err := f.setTag(services[0].Name, tag)
			assert.ErrorContains(t, err, "remove image first", name)
			continue
		}
		_, err = f.setTag(target.Name, tag)
		require.NoError(t, err, name)

		before := strings.Split(string(raw), "\n")
		after := strings.Split(string(f.src), "\n")
		var differing []string
		if target.ImageTag == "" {
			require.Len(t, after, len(before)+1, name)
			for i, j := 0, 0; j < len(after); j++ {
				if i < len(before) && before[i] == after[j] {
					i++
					continue
				}
				differing = append(differing, after[j])
			}
		} else {
			require.Len(t, after, len(before), name)
			for i := range after {
				if before[i] != after[i] {
					differing = append(differing, after[i])
				}
			}
		}
		require.Len(t, differing, 1, "%s: one line added or changed, nothing else", name)
		assert.Contains(t, differing[0], "imageTag: "+tag, name)
	}
}

func TestCopyTopLevelAddsStackSecretsSettingsBeforeTheConfig(t *testing.T) {
	f := mustParse(t, devStack)
	initialized := mustParse(t, "encryptionsalt: v1:abc=:v1:def:ghi==\nconfig:\n  aws:region: x\n")
	changed, err := f.copyTopLevel(initialized, stackSecretsKeys)
	require.NoError(t, err)
	assert.True(t, changed)
	assert.True(t, strings.HasPrefix(string(f.src), "# The dev environment.\nencryptionsalt: \"v1:abc=:v1:def:ghi==\"\nconfig:\n"), string(f.src))
	changed, err = f.copyTopLevel(initialized, stackSecretsKeys)
	require.NoError(t, err)
	assert.False(t, changed, "a key already there is left alone")
}

func TestTagsAndDeployedTag(t *testing.T) {
	f := mustParse(t, devStack+"  saas-platform:imageTag: stackwide\n")
	tags, err := f.tags()
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"hello": "0123456789abcdef0123456789abcdef01234567", "cron": "v1"}, tags)
	api, err := f.service("api")
	require.NoError(t, err)
	assert.Equal(t, "stackwide", f.deployedTag(api))
}

// writeRepo lays out files (path -> content) under a new directory.
func writeRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, []byte(content), 0o644))
	}
	return dir
}

func stackFiles(t *testing.T, dir string) []*stackFile {
	t.Helper()
	var out []*stackFile
	for _, n := range []string{"Pulumi.dev.yaml", "Pulumi.prod.yaml"} {
		f, err := readStackFile(filepath.Join(dir, n), project)
		require.NoError(t, err)
		out = append(out, f)
	}
	return out
}

func TestBuildTargets(t *testing.T) {
	dir := writeRepo(t, map[string]string{
		"services/hello/Dockerfile":     "FROM scratch\n",
		"services/orphan/Dockerfile":    "FROM scratch\n",
		"services/legacy/Dockerfile":    "FROM scratch\n",
		"services/dashboard/Dockerfile": "FROM scratch\n",
		"apps/api/build/Dockerfile":     "FROM scratch\n",
		"Pulumi.dev.yaml": `config:
  saas-platform:services:
    - name: hello
    - name: api
      build: {context: apps/api, dockerfile: apps/api/build/Dockerfile}
    - name: dashboard
      image: public.ecr.aws/nginx/nginx:1.27
    - name: notification
    - name: legacy
      image: public.ecr.aws/docker/library/node:22-alpine
`,
		"Pulumi.prod.yaml": `config:
  saas-platform:services:
    - name: hello
      architecture: arm64
    - name: api
      build: {context: apps/api, dockerfile: apps/api/build/Dockerfile}
    - name: dashboard
`,
	})
	targets, err := buildTargets(dir, stackFiles(t, dir), "dev")
	require.NoError(t, err)
	assert.Equal(t, []target{
		{Name: "api", Context: "apps/api", Dockerfile: "apps/api/build/Dockerfile", Platforms: "linux/amd64", Stacks: []string{"dev", "prod"}, Push: true},
		// dev runs nginx and prod its own build: built, but not pushed, since
		// images reach prod only through dev's repository.
		{Name: "dashboard", Context: "services/dashboard", Dockerfile: "services/dashboard/Dockerfile", Platforms: "linux/amd64", Stacks: []string{"prod"}},
		{Name: "hello", Context: "services/hello", Dockerfile: "services/hello/Dockerfile", Platforms: "linux/amd64,linux/arm64", MultiArch: true, Stacks: []string{"dev", "prod"}, Push: true},
		// Still a placeholder image in every stack: its source is built, not pushed.
		{Name: "legacy", Context: "services/legacy", Dockerfile: "services/legacy/Dockerfile", Platforms: "linux/amd64", Stacks: []string{}},
		// A Dockerfile no stack file names yet: built on pull requests, never pushed.
		{Name: "orphan", Context: "services/orphan", Dockerfile: "services/orphan/Dockerfile", Platforms: "linux/amd64", Stacks: []string{}},
	}, targets)
}

func TestBuildTargetsRejectsBadBuildKeys(t *testing.T) {
	for name, tc := range map[string]struct{ dev, prod, want string }{
		"outside the repository": {
			dev:  "    - name: api\n      build: {context: ../elsewhere}\n",
			want: `build.context "../elsewhere" goes up with ..: must be a path inside this repository`,
		},
		"a Dockerfile outside the repository, which the stack file's validator refuses too": {
			dev:  "    - name: api\n      build: {context: apps/api, dockerfile: apps/../../etc/Dockerfile}\n",
			want: `build.dockerfile "apps/../../etc/Dockerfile" goes up with ..`,
		},
		"a context a tool would read as an option": {
			dev:  "    - name: api\n      build: {context: -f}\n",
			want: `build.context "-f" starts with -`,
		},
		"missing Dockerfile": {
			dev:  "    - name: api\n      build: {context: apps/api, dockerfile: apps/api/Nope}\n",
			want: "build.dockerfile apps/api/Nope does not exist",
		},
		"two sources for one image": {
			dev:  "    - name: api\n      build: {context: apps/api, dockerfile: apps/api/build/Dockerfile}\n",
			prod: "    - name: api\n      build: {context: apps/api}\n",
			want: "one image must serve every stack",
		},
	} {
		dir := writeRepo(t, map[string]string{
			"apps/api/Dockerfile":       "FROM scratch\n",
			"apps/api/build/Dockerfile": "FROM scratch\n",
			"Pulumi.dev.yaml":           "config:\n  saas-platform:services:\n" + tc.dev,
			"Pulumi.prod.yaml":          "config:\n  saas-platform:services:\n" + tc.prod,
		})
		_, err := buildTargets(dir, stackFiles(t, dir), "dev")
		assert.ErrorContains(t, err, tc.want, name)
	}
}

func TestChangedSince(t *testing.T) {
	targets := []target{
		{Name: "api", Context: "apps/api", Dockerfile: "build/api.Dockerfile"},
		{Name: "hello", Context: "services/hello", Dockerfile: "services/hello/Dockerfile"},
		{Name: "everything", Context: ".", Dockerfile: "Dockerfile"},
	}
	got := changedSince(targets, []string{"build/api.Dockerfile", "README.md", "services/hello-world/x"})
	require.Len(t, got, 2)
	assert.Equal(t, "api", got[0].Name)
	assert.Equal(t, "changed: build/api.Dockerfile", got[0].Reason)
	assert.Equal(t, "everything", got[1].Name, "a service built from the whole repository rebuilds on any change")
}

// gitRepo makes a git repository with files committed, and returns it with
// a function that commits more and returns the new commit's sha.
func gitRepo(t *testing.T, files map[string]string) (string, func(map[string]string) string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := writeRepo(t, nil)
	git := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		return strings.TrimSpace(string(out))
	}
	git("init", "--quiet", "--initial-branch=main")
	commit := func(files map[string]string) string {
		for p, content := range files {
			full := filepath.Join(dir, filepath.FromSlash(p))
			require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
			require.NoError(t, os.WriteFile(full, []byte(content), 0o644))
		}
		git("add", "-A")
		git("commit", "--quiet", "--allow-empty", "-m", "change")
		return git("rev-parse", "HEAD")
	}
	commit(files)
	return dir, commit
}

func TestChangedSinceDeployed(t *testing.T) {
	dir, commit := gitRepo(t, map[string]string{
		"Pulumi.yaml":               "name: saas-platform\n",
		"services/hello/Dockerfile": "FROM scratch\n",
		"services/hello/main.go":    "package main\n",
		"services/other/Dockerfile": "FROM scratch\n",
	})
	first := commit(map[string]string{"README.md": "first\n"})
	r := repo{dir: dir}
	targets := []target{
		{Name: "hello", Context: "services/hello", Dockerfile: "services/hello/Dockerfile", Push: true},
		{Name: "other", Context: "services/other", Dockerfile: "services/other/Dockerfile", Push: true},
		{Name: "unpushed", Context: "services/unpushed", Dockerfile: "services/unpushed/Dockerfile"},
	}
	deployed := func(helloTag, otherTag string) *stackFile {
		return mustParse(t, "config:\n  saas-platform:services:\n    - name: hello\n      imageTag: "+helloTag+
			"\n    - name: other\n      imageTag: "+otherTag+"\n")
	}
	names := func(ts []target) []string {
		var out []string
		for _, t := range ts {
			out = append(out, t.Name+": "+t.Reason)
		}
		return out
	}

	got, err := changedSinceDeployed(r, targets, deployed(first, first), "HEAD")
	require.NoError(t, err)
	assert.Empty(t, got, "nothing changed since the deployed commit")

	commit(map[string]string{"README.md": "second\n"})
	got, err = changedSinceDeployed(r, targets, deployed(first, first), "HEAD")
	require.NoError(t, err)
	assert.Empty(t, got, "a change elsewhere rebuilds nothing")

	commit(map[string]string{"services/hello/main.go": "package main // changed\n"})
	got, err = changedSinceDeployed(r, targets, deployed(first, first), "HEAD")
	require.NoError(t, err)
	assert.Equal(t, []string{"hello: changed since " + first[:12] + ": services/hello/main.go"}, names(got))

	got, err = changedSinceDeployed(r, targets, deployed("latest", "deadbeefdeadbeef"), "HEAD")
	require.NoError(t, err)
	assert.Equal(t, []string{
		"hello: deployed tag latest is not a commit of this repository",
		"other: deployed tag deadbeefdeadbeef is not a commit of this repository",
	}, names(got))

	got, err = changedSinceDeployed(r, targets, mustParse(t, "config:\n  saas-platform:services:\n    - name: hello\n"), "HEAD")
	require.NoError(t, err)
	assert.Equal(t, []string{"hello: no tag deployed in dev", "other: no tag deployed in dev"}, names(got),
		"never deployed (or not in the stack yet): built")
}

func TestServicesCommand(t *testing.T) {
	dir, commit := gitRepo(t, map[string]string{
		"Pulumi.yaml":               "name: saas-platform\n",
		"Pulumi.dev.yaml":           "config:\n  saas-platform:services:\n    - name: hello\n    - name: other\n",
		"services/hello/Dockerfile": "FROM scratch\n",
		"services/other/Dockerfile": "FROM scratch\n",
	})
	commit(map[string]string{"services/hello/main.go": "package main\n"})
	var out bytes.Buffer
	require.Equal(t, 0, run([]string{"services", "-dir", dir, "-base", "HEAD~1"}, &out, &out), out.String())
	var targets []target
	require.NoError(t, json.Unmarshal(out.Bytes(), &targets))
	require.Len(t, targets, 1)
	assert.Equal(t, "hello", targets[0].Name)
	assert.True(t, targets[0].Push)

	out.Reset()
	require.Equal(t, 0, run([]string{"services", "-dir", dir, "-since-deployed", filepath.Join(dir, "Pulumi.dev.yaml")}, &out, &out), out.String())
	require.NoError(t, json.Unmarshal(out.Bytes(), &targets))
	assert.Len(t, targets, 2, "nothing deployed yet: everything is built")

	out.Reset()
	commit(map[string]string{"README.md": "x\n"})
	require.Equal(t, 0, run([]string{"services", "-dir", dir, "-base", "HEAD~1"}, &out, &out), out.String())
	assert.Equal(t, "[]\n", out.String(), "an empty list, which the workflow's matrix skips")
}

func TestSetTagsCommandCarriesTheDeployedTagsThenSetsNewOnes(t *testing.T) {
	dir := writeRepo(t, map[string]string{
		"Pulumi.yaml":     "name: saas-platform\n",
		"Pulumi.dev.yaml": "config:\n  saas-platform:services:\n    - name: api\n    - name: hello\n    - name: web\n      image: nginx\n",
		// main, where the deploy workflow recorded what runs
		"main/Pulumi.dev.yaml": "encryptionsalt: v1:salt\nconfig:\n  saas-platform:services:\n    - name: api\n      imageTag: aaaaaaa\n    - name: hello\n      imageTag: bbbbbbb\n    - name: web\n      image: nginx\n",
	})
	var out bytes.Buffer
	code := run([]string{"set-tags", "-dir", dir, "-file", filepath.Join(dir, "Pulumi.dev.yaml"),
		"-from", filepath.Join(dir, "main", "Pulumi.dev.yaml"), "hello=ccccccc"}, &out, &out)
	require.Equal(t, 0, code, out.String())
	assert.Equal(t, "dev: hello=ccccccc\n", out.String())
	raw, err := os.ReadFile(filepath.Join(dir, "Pulumi.dev.yaml"))
	require.NoError(t, err)
	assert.Equal(t, "encryptionsalt: \"v1:salt\"\nconfig:\n  saas-platform:services:\n    - name: api\n      imageTag: aaaaaaa\n    - name: hello\n      imageTag: ccccccc\n    - name: web\n      image: nginx\n", string(raw),
		"main's tags, then the new one; and the stack's secrets settings main gained")

	out.Reset()
	assert.Equal(t, 2, run([]string{"set-tags", "-dir", dir, "-file", filepath.Join(dir, "Pulumi.dev.yaml"), "web=x1"}, &out, &out))
	assert.Contains(t, out.String(), "runs the image nginx")
	assert.Equal(t, 2, run([]string{"set-tags", "-dir", dir, "-file", filepath.Join(dir, "Pulumi.dev.yaml"), "api"}, &out, &out))
}

func TestPromotions(t *testing.T) {
	// dashboard runs nginx in dev; a tag beside its image is not what dev runs.
	dev := mustParse(t, strings.Replace(devStack, "      image: public.ecr.aws/nginx/nginx:1.27\n",
		"      image: public.ecr.aws/nginx/nginx:1.27\n      imageTag: v5\n", 1))
	prod := mustParse(t, `config:
  saas-platform:services:
    - name: api
    - name: hello
      imageTag: 0123456789abcdef0123456789abcdef01234567
    - name: dashboard
    - {name: cron, imageTag: v0}
    - name: prodonly
`)
	sets, err := promotions(dev, prod)
	require.NoError(t, err)
	assert.Equal(t, []string{"cron=v1"}, sets, "hello is already there; api has no tag in dev; dashboard runs nginx in dev")
}

func TestTagChanges(t *testing.T) {
	base := map[string][]byte{
		"Pulumi.dev.yaml":  []byte(devStack),
		"Pulumi.prod.yaml": []byte("config:\n  saas-platform:services:\n    - name: api\n      imageTag: v2\n"),
		"Pulumi.old.yaml":  []byte("config: {}\n"),
	}
	head := map[string][]byte{
		// hello moved back, cron lost its tag, api gained one, a new service with a tag is fine
		"Pulumi.dev.yaml": []byte(strings.NewReplacer(
			"imageTag: 0123456789abcdef0123456789abcdef01234567", "imageTag: 0000000",
			`{name: cron, imageTag: "v1", `, "{name: cron, ",
			"    - name: api            # the public API\n", "    - name: api\n      imageTag: v9\n",
			"    - name: reports\n", "    - name: billing\n      imageTag: v1\n    - name: reports\n",
		).Replace(devStack)),
		"Pulumi.prod.yaml":    []byte("config:\n  saas-platform:services:\n    - name: api\n      imageTag: v2\n      port: 1\n"),
		"Pulumi.staging.yaml": []byte("config:\n  saas-platform:services:\n    - name: api\n      imageTag: v1\n"),
	}
	changes, err := tagChanges(project, base, head)
	require.NoError(t, err)
	var got []string
	for _, c := range changes {
		got = append(got, c.String())
	}
	assert.Equal(t, []string{
		"Pulumi.dev.yaml: service api: imageTag (none) -> v9",
		"Pulumi.dev.yaml: service hello: imageTag 0123456789abcdef0123456789abcdef01234567 -> 0000000",
		"Pulumi.dev.yaml: service cron: imageTag v1 -> (none)",
	}, got)
}

func TestGuardCommand(t *testing.T) {
	dir, commit := gitRepo(t, map[string]string{
		"Pulumi.yaml":     "name: saas-platform\n",
		"Pulumi.dev.yaml": "config:\n  saas-platform:services:\n    - name: api\n      imageTag: aaaaaaa\n",
	})
	base := commit(map[string]string{"README.md": "x\n"})
	commit(map[string]string{"Pulumi.dev.yaml": "config:\n  saas-platform:services:\n    - name: api\n      imageTag: aaaaaaa\n      port: 3000\n"})
	var out bytes.Buffer
	assert.Equal(t, 0, run([]string{"guard", "-dir", dir, "-base", base, "-author", "someone"}, &out, &out), out.String())

	commit(map[string]string{"Pulumi.dev.yaml": "config:\n  saas-platform:services:\n    - name: api\n      imageTag: 9999999\n"})
	out.Reset()
	assert.Equal(t, 1, run([]string{"guard", "-dir", dir, "-base", base, "-author", "someone"}, &out, &out))
	assert.Contains(t, out.String(), "Pulumi.dev.yaml: service api: imageTag aaaaaaa -> 9999999")
	assert.Contains(t, out.String(), "run the deploy workflow by hand")

	out.Reset()
	assert.Equal(t, 0, run([]string{"guard", "-dir", dir, "-base", base, "-author", "github-actions[bot]"}, &out, &out))
	assert.Contains(t, out.String(), "as the deploy workflow does")

	assert.Equal(t, 2, run([]string{"guard", "-dir", dir, "-base", "0000000"}, &out, &out), "an unknown base is an error, not a pass")
}

func TestRepositoryTargets(t *testing.T) {
	stack := "urn:pulumi:dev::saas-platform::pulumi:pulumi:Stack::saas-platform-dev"
	platform := "urn:pulumi:dev::saas-platform::saas:platform:Platform::p"
	provider := "urn:pulumi:dev::saas-platform::saas:platform:Platform$pulumi:providers:aws::p"
	keyComponent := "urn:pulumi:dev::saas-platform::saas:platform:Platform$saas:data:EncryptionKey::p"
	key := "urn:pulumi:dev::saas-platform::saas:platform:Platform$saas:data:EncryptionKey$aws:kms/key:Key::p"
	compute := "urn:pulumi:dev::saas-platform::saas:platform:Platform$saas:compute:Compute::p"
	repository := "urn:pulumi:dev::saas-platform::saas:platform:Platform$saas:compute:Compute$aws:ecr/repository:Repository::api"
	lifecycle := "urn:pulumi:dev::saas-platform::saas:platform:Platform$saas:compute:Compute$aws:ecr/lifecyclePolicy:LifecyclePolicy::api"
	cluster := "urn:pulumi:dev::saas-platform::saas:platform:Platform$saas:compute:Compute$aws:ecs/cluster:Cluster::p"
	reference := "urn:pulumi:dev::saas-platform::pulumi:pulumi:StackReference::previous-deployment"
	plan := map[string]any{"resources": []map[string]any{
		{"urn": platform, "type": "saas:platform:Platform", "parent": stack},
		{"urn": provider, "type": "pulumi:providers:aws", "parent": platform},
		{"urn": keyComponent, "type": "saas:data:EncryptionKey", "parent": platform},
		{"urn": key, "type": "aws:kms/key:Key", "parent": keyComponent, "options": map[string]any{"provider": provider + "::04da6b54-80e4-46f7-96ec-b56ff0331ba9"}},
		{"urn": compute, "type": "saas:compute:Compute", "parent": platform},
		{"urn": repository, "type": typeRepository, "parent": compute, "dependencies": []string{key}, "options": map[string]any{"provider": provider}},
		{"urn": lifecycle, "type": typeLifecyclePolicy, "parent": compute, "dependencies": []string{repository}, "options": map[string]any{"provider": provider}},
		{"urn": cluster, "type": "aws:ecs/cluster:Cluster", "parent": compute, "dependencies": []string{key}},
		{"urn": reference, "type": typeStackReference, "parent": stack},
	}}
	raw, err := json.Marshal(plan)
	require.NoError(t, err)
	urns, err := repositoryTargets(raw, []string{typeRepository, typeLifecyclePolicy})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{stack, platform, provider, keyComponent, key, compute, repository, lifecycle, reference}, urns,
		"the repositories, what they depend on, their parents and provider; not the cluster")

	_, err = repositoryTargets([]byte(`{"resources": []}`), []string{typeRepository})
	assert.ErrorContains(t, err, "no resource of type")
}

func TestECSServices(t *testing.T) {
	state := `{"version": 3, "deployment": {"resources": [
	  {"type": "aws:ecs/service:Service", "outputs": {"name": "api", "cluster": "arn:aws:ecs:r:1:cluster/c", "taskDefinition": "arn:aws:ecs:r:1:task-definition/api:7"}},
	  {"type": "aws:ecs/taskDefinition:TaskDefinition", "outputs": {"family": "api"}}
	]}}`
	services, err := ecsServices([]byte(state))
	require.NoError(t, err)
	assert.Equal(t, []ecsService{{Cluster: "arn:aws:ecs:r:1:cluster/c", Name: "api", TaskDefinition: "arn:aws:ecs:r:1:task-definition/api:7"}}, services)

	_, err = ecsServices([]byte(`{"deployment": {"resources": [{"type": "aws:ecs/service:Service", "outputs": {"name": "api"}}]}}`))
	assert.Error(t, err)
}

func TestDriftReport(t *testing.T) {
	preview := `{"steps": [
	  {"op": "same", "urn": "urn:pulumi:dev::saas-platform::saas:platform:Platform::p"},
	  {"op": "update", "urn": "urn:pulumi:dev::saas-platform::saas:platform:Platform$aws:ec2/securityGroup:SecurityGroup::lb",
	   "diffReasons": ["ingress"], "detailedDiff": {"ingress[2]": {"kind": "delete"}, "tags.Owner": {"kind": "delete"}}},
	  {"op": "create", "urn": "urn:pulumi:dev::saas-platform::saas:platform:Platform$aws:ssm/parameter:Parameter::host"}
	], "changeSummary": {"same": 1, "update": 1, "create": 1}}`
	var out bytes.Buffer
	n, err := driftReport(&out, "dev", []byte(preview))
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Contains(t, out.String(), "### Stack dev: 2 resources drifted")
	assert.Contains(t, out.String(), "| update | `aws:ec2/securityGroup:SecurityGroup` | `lb` | ingress[2], tags.Owner |")
	assert.Contains(t, out.String(), "| create | `aws:ssm/parameter:Parameter` | `host` | - |")

	out.Reset()
	n, err = driftReport(&out, "prod", []byte(`{"steps": [{"op": "same", "urn": "u"}]}`))
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Contains(t, out.String(), "no drift")

	dir := writeRepo(t, map[string]string{"preview.json": preview})
	assert.Equal(t, 1, run([]string{"drift", "-stack", "dev", "-preview", filepath.Join(dir, "preview.json")}, &out, &out))
}

func TestScanReport(t *testing.T) {
	findings := `{"imageScanStatus": {"status": "COMPLETE"}, "imageScanFindings": {
	  "findingSeverityCounts": {"HIGH": 1, "LOW": 2},
	  "findings": [
	    {"name": "CVE-2024-0002", "severity": "LOW", "attributes": [{"key": "package_version", "value": "1.0"}, {"key": "package_name", "value": "zlib"}]},
	    {"name": "CVE-2024-0001", "severity": "HIGH", "uri": "https://example.com/CVE-2024-0001", "attributes": [{"key": "package_name", "value": "openssl"}, {"key": "package_version", "value": "3.0.1"}]}
	  ]}}`
	unsupported := `{"imageScanStatus": {"status": "UNSUPPORTED_IMAGE", "description": "UnsupportedImageError: The operating system and/or package manager are not supported."}}`
	var out bytes.Buffer
	n, err := scanReport(&out, "hello:abc", []string{"linux/amd64", "linux/arm64"}, [][]byte{[]byte(findings), []byte(unsupported)}, "HIGH")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	report := out.String()
	assert.Contains(t, report, "**linux/amd64**: scan complete: 1 high, 2 low")
	assert.Less(t, strings.Index(report, "CVE-2024-0001"), strings.Index(report, "CVE-2024-0002"), "the most severe first")
	assert.Contains(t, report, "| high | [CVE-2024-0001](https://example.com/CVE-2024-0001) | openssl 3.0.1 |")
	assert.Contains(t, report, "| low | CVE-2024-0002 | zlib 1.0 |")
	assert.Contains(t, report, "**linux/arm64**: scan unsupported_image (UnsupportedImageError")

	n, err = scanReport(&out, "hello:abc", []string{"linux/amd64"}, [][]byte{[]byte(findings)}, "CRITICAL")
	require.NoError(t, err)
	assert.Zero(t, n)
	_, err = scanReport(&out, "x", []string{"a"}, [][]byte{[]byte(findings)}, "SEVERE")
	assert.Error(t, err)
}

func TestUsage(t *testing.T) {
	var out bytes.Buffer
	assert.Equal(t, 2, run(nil, &out, &out))
	assert.Equal(t, 2, run([]string{"deploy"}, &out, &out))
	_, err := parseAssignments([]string{"api=1 api=2"})
	assert.ErrorContains(t, err, "twice")
	sets, err := parseAssignments([]string{"api=1 hello=2", "web=3"})
	require.NoError(t, err)
	assert.Equal(t, [][2]string{{"api", "1"}, {"hello", "2"}, {"web", "3"}}, sets)
}

// A revision that looks like an option reaches git as a revision to look
// up, never as an option: every call puts --end-of-options before it.
func TestRevisionsThatLookLikeOptionsAreNeverReadAsOptions(t *testing.T) {
	dir, _ := gitRepo(t, map[string]string{"Pulumi.yaml": "name: saas-platform\n"})
	out := filepath.Join(t.TempDir(), "written")
	r := repo{dir: dir}
	for _, rev := range []string{"--output=" + out, "-o" + out, "--exec=touch " + out} {
		_, err := r.changed(rev, "HEAD")
		assert.Error(t, err, rev)
		assert.False(t, r.isCommit(rev), rev)
		_, _, err = r.show(rev, "Pulumi.yaml")
		assert.Error(t, err, rev)
		_, err = r.stackFiles(rev)
		assert.Error(t, err, rev)
		assert.NoFileExists(t, out, rev)
	}
}

// A refused set-tags leaves the stack file byte for byte as it was and
// prints nothing on stdout, whichever of its arguments is refused: every
// tag is checked by the rule the stack file's validator applies.
func TestARefusedSetTagsLeavesTheFileAsItWasAndStdoutEmpty(t *testing.T) {
	for name, args := range map[string][]string{
		"a tag that smuggles a key":          {"api=v1, image: evil"},
		"a tag that closes a flow entry":     {"worker=v1}"},
		"a tag with a line break":            {"api=v1\n      image: evil"},
		"a good tag then a refused one":      {"api=v2", "hello=$(id)"},
		"a good tag then an unknown service": {"api=v2", "billing=v1"},
		"a good tag then one for an image":   {"api=v2", "dashboard=v1"},
		"a tag that starts like an option":   {"api=-v2"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := writeRepo(t, map[string]string{"Pulumi.yaml": "name: saas-platform\n", "Pulumi.dev.yaml": devStack})
			file := filepath.Join(dir, "Pulumi.dev.yaml")
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"set-tags", "-dir", dir, "-file", file}, args...), &stdout, &stderr)
			assert.NotEqual(t, 0, code)
			assert.Empty(t, stdout.String())
			assert.NotEmpty(t, stderr.String())
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			assert.Equal(t, devStack, string(data))
		})
	}
}

package config_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/saas-platform/saas-platform/config"
)

// hostileSeeds are the cases, each a class the loader must refuse
// by key; the files under tests/testdata/broken and the real stack files
// join them in the seed corpus.
var hostileSeeds = []string{
	"",
	"# only a comment\n",
	"conifg:\n  saas-platform:sizing: dev\n",
	minimalStack + "  saas-platfrom:tenants: [{id: acme, plan: free}]\n",
	minimalStack + "  saas-platform:network: {CIDR: 10.0.0.0/16, cidr: 10.1.0.0/16}\n",
	minimalStack + "  saas-platform:services: [{name: api, image: nginx, Port: 80}]\n",
	minimalStack + "  aws:assumeRole: {roleARN: 'arn:aws:iam::123456789012:role/x'}\n",
	minimalStack + "  saas-platform:tenants: [{id: acme, plan: 'enterprise, onRemove: drop'}]\n",
	minimalStack + "  saas-platform:tenants: [{id: saas-admin, plan: free}, {id: public, plan: free}, {id: pg-x, plan: free}, {id: template1, plan: free}]\n",
	minimalStack + "  saas-platform:tenants: [{id: shared, plan: premium}]\n",
	minimalStack + "  saas-platform:loadBalancer: {allowedCidrs: [203.0.113.0/24, 203.0.113.0/24]}\n",
	minimalStack + "  saas-platform:services: [{name: api, image: nginx, port: 80, healthCheckPath: '/h;reboot'}]\n",
	minimalStack + "  saas-platform:services: [{name: api, image: nginx, port: 80, healthCheckPath: '/health?deep=1&db=1', paths: ['/api/*'], priority: 5}]\n",
	minimalStack + "  saas-platform:services: [{name: api, image: 'nginx;id', port: 80}]\n",
	minimalStack + "  saas-platform:alerts: {emails: ['a$(id)@example.com']}\n",
	minimalStack + "  aws:region: xx-nowhere-1\n",
	minimalStack + "  saas-platform:services: [{name: api, image: nginx, port: 80, environment: {A: '${cache.endpoint'}}]\n",
	minimalStack + "  saas-platform:services: [{name: api, port: 80, build: {context: services/api, dockerfile: ../../x}}]\n",
	minimalStack + "  saas-platform:services: [{name: api, image: nginx, port: 80, secrets: {JWT_SECRET: {generate: true, rotate: 1}}}]\n",
	minimalStack + "  saas-platform:network:\n    <<: {cidr: 10.0.0.0/16}\n",
	minimalStack + "  saas-platform:network: {cidr: !!binary aGk=}\n",
	minimalStack + "  saas-platform:tenants: {id: acme}\n",
	"a: &a [x, x]\nb: &b [*a, *a]\nconfig: {saas-platform:tenants: [*b, *b]}\n",
	"config: [1, 2]\n",
	"config:\n  saas-platform:sizing: dev\n---\nconfig: {}\n",
}

// FuzzStackFileLoader feeds the loader arbitrary stack files: it never
// panics, and every refusal names the keys it refuses (or, for text that is
// not YAML, its line), never a Go type.
func FuzzStackFileLoader(f *testing.F) {
	for _, s := range hostileSeeds {
		f.Add([]byte(s))
	}
	files, _ := filepath.Glob("../tests/testdata/broken/*.yaml")
	files = append(files, "../Pulumi.dev.yaml", "../Pulumi.prod.yaml")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sf, err := config.ParseStackFile(data, "Pulumi.fuzz.yaml", project)
		if err == nil {
			_, err = config.ParseSecret(project, "fuzz", sf.Values, sf.SecretKeys)
		}
		if err == nil {
			return
		}
		// Echoing what the file itself says (a key named config.A) is not a
		// Go type name reaching the user.
		for _, name := range goTypeName.FindAllString(err.Error(), -1) {
			if !bytes.Contains(data, []byte(name)) {
				t.Fatalf("a Go type name reaches the user: %v", err)
			}
		}
		var cfgErr *config.Error
		if !errors.As(err, &cfgErr) {
			if !strings.Contains(err.Error(), "is not valid YAML") {
				t.Fatalf("a refusal that is neither by key nor a YAML syntax error: %v", err)
			}
			return
		}
		if len(cfgErr.Problems) == 0 {
			t.Fatalf("a refusal without a problem: %v", err)
		}
		for _, p := range cfgErr.Problems {
			if strings.TrimSpace(p.Key) == "" || p.Allowed == "" {
				t.Fatalf("a problem without its key or what is allowed: %+v", p)
			}
		}
	})
}

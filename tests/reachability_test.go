package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/saas-platform/saas-platform/components/network"
	"github.com/saas-platform/saas-platform/config"
	"github.com/saas-platform/saas-platform/internal/plan"
)

// reachabilityStacks are planned and their flows compared with what their
// stack files declare.
var reachabilityStacks = []struct{ name, file, stack string }{
	{"the dev stack file", "../Pulumi.dev.yaml", "dev"},
	{"the prod stack file", "../Pulumi.prod.yaml", "prod"},
	{"a stack with a tenant of every plan", "testdata/Pulumi.every-plan.yaml", "every-plan"},
	{"services reaching one another every way a stack file can say", "testdata/Pulumi.calls.yaml", "calls"},
}

// declaredFlows is the graph the stack file declares, in the report's
// words: the internet to the load balancer's listeners, the load balancer
// to routed services, each service to what it calls (references and
// calls) and to the data stores it uses, every service and the
// provisioner to AWS's APIs, and the provisioner to PostgreSQL.
func declaredFlows(t *testing.T, file, stack string) []string {
	t.Helper()
	sf, err := config.ReadStackFile(file, "saas-platform")
	require.NoError(t, err)
	cfg, err := config.ParseSecret("saas-platform", stack, sf.Values, sf.SecretKeys)
	require.NoError(t, err)

	flow := func(from, to string, port int) string { return fmt.Sprintf("%s -> %s tcp/%d", from, to, port) }
	databases := []string{plan.NodeSharedDatabase}
	for _, pool := range cfg.Database.Pools {
		databases = append(databases, "database:"+pool.Name)
	}
	pools := 0
	for _, tenant := range cfg.Tenants {
		if tenant.Plan.Isolation == config.Silo {
			databases = append(databases, "database:"+tenant.ID)
		} else {
			pools++
		}
	}
	ports := map[string]int{}
	for _, s := range cfg.Services {
		ports[s.Name] = s.Port
	}

	want := []string{flow(plan.NodeInternet, plan.NodeLoadBalancer, 80)}
	if cfg.Domain.HTTPS() {
		want = append(want, flow(plan.NodeInternet, plan.NodeLoadBalancer, 443))
	}
	for _, s := range cfg.Services {
		node := "service:" + s.Name
		want = append(want, flow(node, plan.NodeAWSAPIs, 443))
		if s.Routed() {
			want = append(want, flow(plan.NodeLoadBalancer, node, s.Port))
		}
		for _, callee := range s.Callees() {
			want = append(want, flow(node, "service:"+callee, ports[callee]))
		}
		if s.UsesDatabase() {
			for _, db := range databases {
				want = append(want, flow(node, db, network.PostgresPort))
			}
		}
		if s.UsesCache() {
			want = append(want, flow(node, plan.NodeCache, network.RedisPort))
		}
	}
	if pools > 0 {
		want = append(want, flow(plan.NodeProvisioner, plan.NodeAWSAPIs, 443))
		for _, db := range databases {
			want = append(want, flow(plan.NodeProvisioner, db, network.PostgresPort))
		}
	}
	sort.Strings(want)
	return want
}

func reachability(t *testing.T, file, stack string) *plan.Reachability {
	t.Helper()
	result, err := planFile(t, file, stack)
	require.NoError(t, err)
	r, err := plan.AnalyzeReachability(result.Resources)
	require.NoError(t, err)
	return r
}

func TestTheFlowsThePlanAllowsAreExactlyTheGraphTheStackFileDeclares(t *testing.T) {
	for _, tc := range reachabilityStacks {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, f := range reachability(t, tc.file, tc.stack).Flows {
				got = append(got, f.String())
			}
			sort.Strings(got)
			assert.Equal(t, declaredFlows(t, tc.file, tc.stack), got)
		})
	}
}

func TestTheInternetReachesOnlyTheLoadBalancerOnItsListenersFromTheAllowedRanges(t *testing.T) {
	for _, tc := range reachabilityStacks {
		t.Run(tc.name, func(t *testing.T) {
			result, err := planFile(t, tc.file, tc.stack)
			require.NoError(t, err)
			var listeners []int
			for _, l := range plan.OfType(result.Resources, "aws:lb/listener:Listener") {
				listeners = append(listeners, int(l.Number("port")))
			}
			sf, err := config.ReadStackFile(tc.file, "saas-platform")
			require.NoError(t, err)
			cfg, err := config.ParseSecret("saas-platform", tc.stack, sf.Values, sf.SecretKeys)
			require.NoError(t, err)

			r, err := plan.AnalyzeReachability(result.Resources)
			require.NoError(t, err)
			fromOutside := 0
			for _, f := range r.Flows {
				if f.From != plan.NodeInternet && f.From != plan.NodePeered {
					assert.Empty(t, f.Sources, "%s comes from inside the VPC", f)
					continue
				}
				fromOutside++
				assert.Equal(t, plan.NodeInternet, f.From, "the load balancer is internet-facing")
				assert.Equal(t, plan.NodeLoadBalancer, f.To, "%s: only the load balancer is reachable from outside", f)
				assert.Contains(t, listeners, f.FromPort, "%s: the internet reaches only a listener's port", f)
				require.NotEmpty(t, f.Sources, f.String())
				for _, source := range f.Sources {
					assert.True(t, slices.ContainsFunc(cfg.LoadBalancer.AllowedCidrs, func(allowed string) bool {
						a, s := netip.MustParsePrefix(allowed), netip.MustParsePrefix(source)
						return a.Bits() <= s.Bits() && a.Contains(s.Addr())
					}), "%s: %s is in none of loadBalancer.allowedCidrs %v", f, source, cfg.LoadBalancer.AllowedCidrs)
				}
			}
			assert.Equal(t, len(listeners), fromOutside, "every listener is reachable from the allowed ranges")
		})
	}
}

func TestNoServiceReachesAnotherThroughTheLoadBalancerOrNAT(t *testing.T) {
	for _, tc := range reachabilityStacks {
		t.Run(tc.name, func(t *testing.T) {
			for _, f := range reachability(t, tc.file, tc.stack).Flows {
				if f.To == plan.NodeLoadBalancer {
					assert.Equal(t, plan.NodeInternet, f.From, "%s: nothing inside the VPC reaches the load balancer", f)
				}
				if f.To == plan.NodeAWSAPIs {
					assert.Equal(t, 443, f.FromPort, "%s: only HTTPS leaves the VPC", f)
				}
			}
		})
	}
}

func TestTheReachabilityReportIsExactlyFlowsOfFromToPortAndProtocol(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := plan.Main([]string{"--stack", "calls", "--config", "testdata/Pulumi.calls.yaml", "--project", "..",
		"--reachability", "--format", "json"}, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())

	dec := json.NewDecoder(bytes.NewReader(stdout.Bytes()))
	dec.DisallowUnknownFields()
	var report struct {
		Flows []struct {
			From     string `json:"from"`
			To       string `json:"to"`
			Port     *int   `json:"port"`
			Protocol string `json:"protocol"`
		} `json:"flows"`
	}
	require.NoError(t, dec.Decode(&report), "only from, to, port and protocol: %s", stdout.String())
	var got []string
	for _, f := range report.Flows {
		require.NotNil(t, f.Port, "every flow of this stack is one port")
		got = append(got, fmt.Sprintf("%s -> %s %s/%d", f.From, f.To, f.Protocol, *f.Port))
	}
	sort.Strings(got)
	assert.Equal(t, declaredFlows(t, "testdata/Pulumi.calls.yaml", "calls"), got)

	stdout.Reset()
	code = plan.Main([]string{"--stack", "calls", "--config", "testdata/Pulumi.calls.yaml", "--project", "..", "--reachability"}, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	assert.Contains(t, stdout.String(), "service:search")
	assert.Contains(t, stdout.String(), "198.51.100.0/24, 203.0.113.0/24", "the table shows where the internet may come from")
}

func TestTheReportNamesAPortRangeByItsEnds(t *testing.T) {
	f := plan.Flow{From: "service:a", To: "service:b", Protocol: "tcp", FromPort: 1024, ToPort: 65535}
	b, err := json.Marshal(f)
	require.NoError(t, err)
	assert.JSONEq(t, `{"from":"service:a","to":"service:b","fromPort":1024,"toPort":65535,"protocol":"tcp"}`, string(b))
}

func TestAFlowNeedsBothEndsGroupsToAllowIt(t *testing.T) {
	result := planStack(t, "dev")
	groups := map[string]string{}
	for id, role := range groupIDs(result, "dev") {
		groups[role] = id
	}
	rule := func(typ, name, group, peer string) plan.Resource {
		return plan.Resource{Type: typ, Name: name, Inputs: map[string]any{
			"securityGroupId": group, "referencedSecurityGroupId": peer,
			"ipProtocol": "tcp", "fromPort": 5432.0, "toPort": 5432.0,
		}}
	}
	in := rule(ingressType, "db-in-dashboard", groups["db"], groups["svc-dashboard"])
	out := rule("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "dashboard-out-db", groups["svc-dashboard"], groups["db"])
	leak := "service:dashboard -> database:shared tcp/5432"

	cases := []struct {
		name  string
		extra []plan.Resource
		flows bool
	}{
		{"the database's ingress alone opens nothing", []plan.Resource{in}, false},
		{"the dashboard's egress alone opens nothing", []plan.Resource{out}, false},
		{"both together open the flow, and the report shows it", []plan.Resource{in, out}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := plan.AnalyzeReachability(append(slices.Clone(result.Resources), tc.extra...))
			require.NoError(t, err)
			var got []string
			for _, f := range r.Flows {
				got = append(got, f.String())
			}
			assert.Equal(t, tc.flows, slices.Contains(got, leak), "%v", got)
		})
	}
}

func TestTheManualsReachabilityExampleIsTheDevPlans(t *testing.T) {
	data, err := os.ReadFile("../docs/services.md")
	require.NoError(t, err)
	text := string(data)
	start := strings.Index(text, "\n### The reachability report\n")
	require.Positive(t, start, "docs/services.md shows the report")
	block := text[start:]
	open := strings.Index(block, "```text\n")
	require.Positive(t, open)
	block = block[open+len("```text\n"):]
	documented := block[:strings.Index(block, "```")]

	var table bytes.Buffer
	require.NoError(t, reachability(t, "../Pulumi.dev.yaml", "dev").WriteTable(&table))
	assert.Equal(t, table.String(), documented, "docs/services.md's example is not what `go run ./cmd/plan --stack dev --reachability` prints")
}

func TestAnInternalLoadBalancerIsReachedFromItsAllowedNetworksNeverFromTheInternet(t *testing.T) {
	file := filepath.Join(t.TempDir(), "Pulumi.internal.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`config:
  aws:region: ap-northeast-1
  saas-platform:sizing: dev
  saas-platform:imageTag: test-1
  saas-platform:loadBalancer: {internal: true, allowedCidrs: [172.16.0.0/12]}
  saas-platform:services:
    - {name: api, port: 3000, healthCheckPath: /health, paths: ["/*"], priority: 5}
`), 0o600))
	var got []string
	for _, f := range reachability(t, file, "internal").Flows {
		got = append(got, f.String()+" "+strings.Join(f.Sources, ","))
	}
	assert.Equal(t, []string{
		"load-balancer -> service:api tcp/3000 ",
		"peered-networks -> load-balancer tcp/80 172.16.0.0/12",
		"service:api -> aws-apis tcp/443 ",
	}, got)
}

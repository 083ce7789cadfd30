package tests

import (
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/saas-platform/saas-platform/config"
	"github.com/saas-platform/saas-platform/internal/plan"
)

func TestEveryResourceIsTaggedThroughTheProvidersDefaultTags(t *testing.T) {
	for _, stack := range stacks {
		t.Run(stack, func(t *testing.T) {
			result := planStack(t, stack)
			provider := theProvider(t, result)
			tagged := map[string]bool{}
			for _, p := range plan.OfType(result.Resources, providerType) {
				assert.Equal(t, map[string]any{
					"Project": "saas-platform", "Environment": stack, "ManagedBy": "pulumi",
				}, p.Input("defaultTags.tags"), p.Name)
				tagged[p.URN] = true
			}

			for _, r := range result.Resources {
				switch {
				case strings.HasPrefix(r.Type, "aws:") && r.Provider != provider.URN:
					assert.True(t, tagged[r.Provider], "%s %s is not managed by a tagged provider", r.Type, r.Name)
					if strings.HasSuffix(r.Provider, "::saas-platform-"+stack+"-dr") {
						assert.True(t, drType(r.Type), "%s %s is in the DR region", r.Type, r.Name)
					}
				case strings.HasPrefix(r.Type, "aws:"):
					assert.True(t, tagged[r.Provider], "%s %s is not managed by a tagged provider", r.Type, r.Name)
				case strings.HasPrefix(r.Type, "awsx:"):
					assert.Equal(t, provider.URN, r.Providers["aws"], "%s %s does not hand the tagged provider to its children", r.Type, r.Name)
				}
			}
		})
	}
}

func TestTheNetworkFollowsThePreset(t *testing.T) {
	cases := []struct {
		stack              string
		zones              int
		nat                string
		natInstances       int
		interfaceEndpoints int
		flowLogs           int
	}{
		// Dev's NAT is an instance of its own: awsx makes no gateway.
		{"dev", 2, "None", 1, 0, 0},
		{"prod", 3, "OnePerAz", 0, 5, 1},
	}
	for _, tc := range cases {
		t.Run(tc.stack, func(t *testing.T) {
			result := planStack(t, tc.stack)
			vpc := plan.OfType(result.Resources, vpcType)
			require.Len(t, vpc, 1)
			assert.Len(t, vpc[0].Strings("availabilityZoneNames"), tc.zones)
			assert.Equal(t, tc.nat, vpc[0].String("natGateways.strategy"))
			assert.Len(t, plan.OfType(result.Resources, "aws:ec2/instance:Instance"), tc.natInstances)

			kinds := map[string]int{}
			for _, e := range plan.OfType(result.Resources, endpointType) {
				kinds[e.String("vpcEndpointType")]++
			}
			assert.Equal(t, 1, kinds["Gateway"], "the S3 gateway endpoint")
			assert.Equal(t, tc.interfaceEndpoints, kinds["Interface"])
			assert.Len(t, plan.OfType(result.Resources, flowLogType), tc.flowLogs)
			assert.Len(t, result.Outputs["privateSubnetIds"], tc.zones)
		})
	}
}

func TestOnlyTheLoadBalancerAcceptsTrafficFromTheInternet(t *testing.T) {
	for _, stack := range stacks {
		t.Run(stack, func(t *testing.T) {
			result := planStack(t, stack)
			roles := groupIDs(result, stack)
			for _, rule := range plan.OfType(result.Resources, ingressType) {
				if rule.String("cidrIpv4") != "0.0.0.0/0" && rule.String("cidrIpv6") != "::/0" {
					continue
				}
				assert.Equal(t, "lb", roles[rule.String("securityGroupId")], rule.Name)
				assert.Contains(t, []float64{80, 443}, rule.Number("fromPort"), rule.Name)
				assert.Equal(t, rule.Number("fromPort"), rule.Number("toPort"), rule.Name)
			}
		})
	}
}

func TestDataStoresAcceptOnlyTheServicesThatUseThemAndTheProvisioner(t *testing.T) {
	// Both stack files declare the same uses: api and collaboration use
	// PostgreSQL and Redis, notification Redis, analytics PostgreSQL.
	want := map[string][]string{
		"db":    {"provisioner", "svc-analytics", "svc-api", "svc-collaboration"},
		"cache": {"svc-api", "svc-collaboration", "svc-notification"},
	}
	for _, stack := range stacks {
		t.Run(stack, func(t *testing.T) {
			result := planStack(t, stack)
			roles := groupIDs(result, stack)
			got := map[string][]string{}
			for _, rule := range plan.OfType(result.Resources, ingressType) {
				role := roles[rule.String("securityGroupId")]
				if role != "db" && role != "cache" {
					continue
				}
				got[role] = append(got[role], roles[rule.String("referencedSecurityGroupId")])
				assert.Empty(t, rule.String("cidrIpv4"), rule.Name)
			}
			for role := range got {
				sort.Strings(got[role])
			}
			assert.Equal(t, want, got)
		})
	}
}

func TestPulumiYamlDeclaresEveryConfigKeyWithADescription(t *testing.T) {
	data, err := os.ReadFile("../Pulumi.yaml")
	require.NoError(t, err)
	var project struct {
		Name   string
		Config map[string]struct {
			Type        string
			Description string
			Default     any
		}
	}
	require.NoError(t, yaml.Unmarshal(data, &project))
	assert.Equal(t, "saas-platform", project.Name)
	for _, key := range config.ProjectKeys() {
		declared, ok := project.Config[key]
		if assert.True(t, ok, "Pulumi.yaml does not declare %s", key) {
			assert.NotEmpty(t, declared.Description, key)
		}
		if key != config.KeySizing {
			assert.NotNil(t, declared.Default, "%s needs a default, or the Pulumi CLI requires it in every stack", key)
		}
	}
	assert.Len(t, project.Config, len(config.ProjectKeys()), "Pulumi.yaml declares a key the program does not read")
}

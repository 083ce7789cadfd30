package config_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/saas-platform/saas-platform/config"
)

// minimalStack is the head of a valid dev stack file; cases append to it.
const minimalStack = `config:
  aws:region: ap-northeast-1
  saas-platform:sizing: dev
  saas-platform:imageTag: dev-abc1234
`

// loadStackFile reads stack file text and resolves it as the plan would.
func loadStackFile(text string) error {
	sf, err := config.ParseStackFile([]byte(text), "Pulumi.dev.yaml", project)
	if err != nil {
		return err
	}
	_, err = config.ParseSecret(project, "dev", sf.Values, sf.SecretKeys)
	return err
}

// goTypeName matches what Go's own messages say about types; a stack
// file's author never wrote them and must never read them.
var goTypeName = regexp.MustCompile(`map\[|interface \{|\[\]string|\[\]interface|\bint64\b|\bfloat64\b|config\.[A-Z]|aws\.Provider|json: |Go (value|struct)`)

func TestTheStackFileIsDecodedStrictlyAtEveryDepth(t *testing.T) {
	cases := []struct {
		name    string
		text    string
		key     string
		value   string
		allowed string
	}{
		{"an empty file is refused for having no config", ``,
			"config", "", "Pulumi.dev.yaml is empty"},
		{"a file of comments only is refused for having no config", "# nothing here\n",
			"config", "", "is empty"},
		{"a file that is a list is refused", "- config\n",
			"config", "", "is not a mapping"},
		{"a file without config says so", "secretsprovider: passphrase\n",
			"config", "", "has no config: key"},
		{"a misspelt config key is named with the key it means", "conifg:\n  saas-platform:sizing: dev\n",
			"conifg", "", "did you mean config?"},
		{"a second YAML document is refused", minimalStack + "---\nconfig: {}\n",
			"---", "", "one document"},
		{"a misspelt project namespace suggests the project's key", minimalStack + "  saas-platfrom:tenants:\n    - {id: acme, plan: free}\n",
			"saas-platfrom:tenants", "", "did you mean saas-platform:tenants?"},
		{"a namespace in another case suggests the real one", minimalStack + "  AWS:profile: dev\n",
			"AWS:profile", "", "did you mean aws:profile?"},
		{"a namespace the program does not read is refused", minimalStack + "  random:seed: 4\n",
			"random:seed", "", "namespace random, which this program does not read"},
		{"a misspelt project key suggests the nearest", minimalStack + "  saas-platform:tenant: []\n",
			"saas-platform:tenant", "", "did you mean saas-platform:tenants?"},
		{"a project key in another case is refused", minimalStack + "  saas-platform:Network: {cidr: 10.0.0.0/16}\n",
			"saas-platform:Network", "", "did you mean saas-platform:network?"},
		{"a key given qualified and unqualified is given twice", minimalStack + "  sizing: prod\n",
			"saas-platform:sizing", "", "is given twice (lines 3 and 5)"},
		{"a key given twice in a section is refused", minimalStack + "  saas-platform:network:\n    cidr: 10.0.0.0/16\n    cidr: 10.1.0.0/16\n",
			"saas-platform:network.cidr", "", "is given twice"},
		{"a key in upper case is refused with the key it means", minimalStack + "  saas-platform:network: {CIDR: 10.0.0.0/16}\n",
			"saas-platform:network.CIDR", "", "did you mean cidr?): keys allowed in saas-platform:network are cidr, availabilityZones, natGateways"},
		{"a key in another case next to the right one is refused, not merged", minimalStack + "  saas-platform:network: {cidr: 10.0.0.0/16, Cidr: 10.1.0.0/16}\n",
			"saas-platform:network.Cidr", "", "did you mean cidr?"},
		{"a service key in another case names the service's index", minimalStack + "  saas-platform:services:\n    - {name: api, image: nginx, Port: 80}\n",
			"saas-platform:services[0].Port", "", "did you mean port?"},
		{"the keys allowed in a service include the workload keys", minimalStack + "  saas-platform:services:\n    - {name: api, image: nginx, port: 80, enviroment: {A: b}}\n",
			"saas-platform:services[0].enviroment", "", "did you mean environment?): keys allowed in saas-platform:services[0] are name, image, port"},
		{"an unknown key inside a secret names its whole path", minimalStack + "  saas-platform:services:\n    - {name: api, image: nginx, port: 80, secrets: {JWT_SECRET: {generate: true, rotate: 30}}}\n",
			"saas-platform:services[0].secrets.JWT_SECRET.rotate", "", "keys allowed in saas-platform:services[0].secrets.JWT_SECRET are generate, parameter, secret, key"},
		{"an unknown key inside an access grant names its whole path", minimalStack + "  saas-platform:services:\n    - {name: api, image: nginx, port: 80, access: [{sendEmail: {From: a@example.com}}]}\n",
			"saas-platform:services[0].access[0].sendEmail.From", "", "did you mean from?"},
		{"a provider key in another case is refused", minimalStack + "  aws:assumeRole: {roleARN: 'arn:aws:iam::123456789012:role/deploy'}\n",
			"aws:assumeRole.roleARN", "", "did you mean roleArn?"},
		{"a list where a string goes gives the index and the value", minimalStack + "  saas-platform:tenants:\n    - {id: acme, plan: free}\n    - {id: [globex], plan: free}\n",
			"saas-platform:tenants[1].id", `["globex"]`, "must be a string, not a list"},
		{"text where a number goes gives the value", minimalStack + "  saas-platform:services:\n    - {name: api, image: nginx, port: \"80\"}\n",
			"saas-platform:services[0].port", "80", "must be a number, not text"},
		{"a fraction where a whole number goes is refused", minimalStack + "  saas-platform:network: {availabilityZones: 2.5}\n",
			"saas-platform:network.availabilityZones", "2.5", "must be a whole number"},
		{"a number where a string goes asks for quotes", minimalStack + "  saas-platform:database: {engineVersion: 16}\n",
			"saas-platform:database.engineVersion", "16", `quote it in YAML: "16"`},
		{"an object where a list goes is refused", minimalStack + "  saas-platform:tenants: {id: acme, plan: free}\n",
			"saas-platform:tenants", `{"id":"acme","plan":"free"}`, "must be a list of objects with the keys id, plan, onRemove"},
		{"text where a section goes is refused", minimalStack + "  saas-platform:network: big\n",
			"saas-platform:network", "big", "must be an object with the keys cidr"},
		{"a YAML merge key is refused", minimalStack + "  saas-platform:network:\n    <<: {cidr: 10.0.0.0/16}\n",
			"saas-platform:network", "<<", "merge key"},
		{"a YAML tag is refused", minimalStack + "  saas-platform:network: {cidr: !!binary aGVsbG8=}\n",
			"saas-platform:network.cidr", "aGVsbG8=", "YAML tag !!binary"},
		{"an infinite number is refused", minimalStack + "  saas-platform:alarms: {cpuPercent: .inf}\n",
			"saas-platform:alarms.cpuPercent", ".inf", "finite number"},
		{"a number too large for any field is refused", minimalStack + "  saas-platform:logs: {retentionDays: 99999999999999999999999}\n",
			"saas-platform:logs.retentionDays", "1e+23", "whole number"},
		{"a key that is a list is refused", minimalStack + "  saas-platform:network: {? [a] : b}\n",
			"saas-platform:network", "", "keys must be plain names"},
		{"aliases that expand without end are refused", "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\nconfig:\n  saas-platform:tenants: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n",
			"saas-platform:tenants[18][0]", "", "more than 200000 values"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := loadStackFile(tc.text)
			require.Error(t, err)
			assert.NotRegexp(t, goTypeName, err.Error())
			var cfgErr *config.Error
			require.True(t, errors.As(err, &cfgErr), "a *config.Error, got %v", err)
			var found *config.Problem
			for i, p := range cfgErr.Problems {
				if p.Key == tc.key {
					found = &cfgErr.Problems[i]
				}
			}
			require.NotNil(t, found, "no problem for %s in: %v", tc.key, err)
			assert.Equal(t, tc.value, found.Value)
			assert.Contains(t, found.Allowed, tc.allowed)
		})
	}
}

func TestTheStrictDecoderReadsWhatTheLenientOneDid(t *testing.T) {
	sf, err := config.ParseStackFile([]byte(minimalStack+`  saas-platform:network: {availabilityZones: 3, flowLogs: true, natGateways: onePerAz}
  saas-platform:alarms: {cpuPercent: 75.5}
  saas-platform:services:
    - name: api
      image: &img public.ecr.aws/nginx/nginx:1.27
      port: 80
      cpu: 512
      memory: 1024
      environment: {LEVEL: 3, DEBUG: true, NAME: x}
      policyStatements:
        - {action: sqs:SendMessage, resource: "arn:aws:sqs:ap-northeast-1:123456789012:q"}
    - {name: worker, image: *img, port: 81}
`), "Pulumi.dev.yaml", project)
	require.NoError(t, err)
	s, err := config.ParseSecret(project, "dev", sf.Values, sf.SecretKeys)
	require.NoError(t, err)
	assert.Equal(t, 3, s.Network.AvailabilityZones)
	assert.True(t, s.Network.FlowLogs)
	assert.Equal(t, "10.10.0.0/16", s.Network.CIDR, "a key the section leaves out keeps the preset's value")
	assert.Equal(t, 75.5, s.Alarms.CPUPercent)
	require.Len(t, s.Services, 2)
	assert.Equal(t, 512, s.Services[0].CPU)
	assert.Equal(t, config.Environment{"LEVEL": "3", "DEBUG": "true", "NAME": "x"}, s.Services[0].Environment,
		"a type's own shorthand (numbers as text) still applies")
	assert.Equal(t, config.StringList{"sqs:SendMessage"}, s.Services[0].PolicyStatements[0].Action, "a string for a list still reads")
	assert.Equal(t, "public.ecr.aws/nginx/nginx:1.27", s.Services[1].Image, "aliases are followed")
}

func TestEveryUnknownKeyIsReportedNotJustTheFirst(t *testing.T) {
	err := loadStackFile(minimalStack + "  saas-platform:network: {Cidr: 10.0.0.0/16, azs: 2}\n  saas-platform:cache: {shard: 2}\n")
	var cfgErr *config.Error
	require.True(t, errors.As(err, &cfgErr))
	var keys []string
	for _, p := range cfgErr.Problems {
		keys = append(keys, p.Key)
	}
	assert.ElementsMatch(t, []string{"saas-platform:cache.shard", "saas-platform:network.Cidr", "saas-platform:network.azs"}, keys)
	assert.True(t, strings.Contains(err.Error(), "did you mean shards?"), err.Error())
}

func TestARegionAWSOpenedSinceIsAllowedByNamingIt(t *testing.T) {
	v := values(map[string]string{"aws:region": "ap-southeast-9"})
	_, err := config.Parse(project, "dev", v)
	require.Error(t, err, "unknown to the pinned provider")
	v["saas-platform:additionalRegions"] = `["ap-southeast-9"]`
	// The dev preset sleeps in the region's local time, which the program
	// cannot know for a region newer than itself.
	v["saas-platform:schedule"] = `{"timezone":"Asia/Jakarta"}`
	s, err := config.Parse(project, "dev", v)
	require.NoError(t, err)
	assert.Equal(t, "ap-southeast-9", s.Region)
	assert.Contains(t, config.KnownRegions(), "ap-northeast-1")
}

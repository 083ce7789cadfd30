package config

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Keys of the project namespace, as they appear after `<project>:` in the
// stack file. Pulumi.yaml declares each of them.
const (
	KeySizing         = "sizing"
	KeyImageTag       = "imageTag"
	KeyNetwork        = "network"
	KeyDatabase       = "database"
	KeyCache          = "cache"
	KeyCompute        = "compute"
	KeyLoadBalancer   = "loadBalancer"
	KeyLogs           = "logs"
	KeyDataProtection = "dataProtection"
	KeySiloSizing     = "siloSizing"
	KeyAlarms         = "alarms"
	KeyAlerts         = "alerts"
	KeyDomain         = "domain"
	KeyServices       = "services"
	KeyTenants        = "tenants"
	KeyBuckets        = "buckets"
	KeyStaticAssets   = "staticAssets"
	KeyOnboarding     = "onboarding"
	KeySchedule       = "schedule"
	// KeyAdditionalRegions lists regions AWS opened after the pinned
	// provider's release, which aws:region and drRegion may then name.
	KeyAdditionalRegions = "additionalRegions"

	// KeyRegion is the AWS provider's region, outside the project namespace.
	KeyRegion = "aws:region"
)

// ProjectKeys lists every key of the project namespace the program reads.
func ProjectKeys() []string {
	return []string{
		KeySizing, KeyImageTag, KeyNetwork, KeyDatabase, KeyCache, KeyCompute,
		KeyLoadBalancer, KeyLogs, KeyDataProtection, KeySiloSizing, KeyAlarms, KeyAlerts,
		KeyDomain, KeyServices, KeyTenants, KeyBuckets, KeyStaticAssets, KeyAdditionalRegions, KeySchedule, KeyOnboarding,
	}
}

// Load reads the stack's configuration from the Pulumi context, merges it over
// the chosen preset and validates it. It registers nothing. keys lists every
// key the stack sets (see EngineKeys): the context answers only for keys it
// is asked about, and a misspelt key must be reported, not skipped.
func Load(ctx *pulumi.Context, keys []string) (*Stack, error) {
	values := map[string]string{}
	asked := append([]string{KeyRegion}, qualify(ctx.Project(), ProjectKeys())...)
	for _, key := range append(asked, keys...) {
		if v, ok := ctx.GetConfig(key); ok {
			values[key] = v
		}
	}
	if region := RegionFromEnvironment(); values[KeyRegion] == "" && region != "" {
		values[KeyRegion] = region
	}
	var secret []string
	for key := range values {
		if ctx.IsConfigSecret(key) {
			secret = append(secret, key)
		}
	}
	return ParseSecret(ctx.Project(), ctx.Stack(), values, secret)
}

// EngineKeys lists the keys of the configuration the Pulumi engine hands the
// program, from the same variable the SDK reads it from.
func EngineKeys() ([]string, error) {
	raw := os.Getenv(pulumi.EnvConfig)
	if raw == "" {
		return nil, nil
	}
	var all map[string]any
	if err := json.Unmarshal([]byte(raw), &all); err != nil {
		return nil, fmt.Errorf("reading the stack configuration from %s: %w", pulumi.EnvConfig, err)
	}
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys, nil
}

// RegionFromEnvironment is the region the AWS tools would use when the
// stack file sets no aws:region.
func RegionFromEnvironment() string {
	for _, name := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if v := os.Getenv(name); v != "" {
			return v
		}
	}
	return ""
}

func qualify(project string, keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = project + ":" + k
	}
	return out
}

// Parse resolves raw config values, as the Pulumi engine hands them to a
// program (fully qualified keys; objects and lists as JSON), into a validated
// Stack. Every problem found is reported in one error.
func Parse(project, stack string, values map[string]string) (*Stack, error) {
	return ParseSecret(project, stack, values, nil)
}

// ParseSecret is Parse for a configuration some of whose keys are secrets:
// their values never appear in a message, and stay secret on the provider.
func ParseSecret(project, stack string, values map[string]string, secretKeys []string) (*Stack, error) {
	p := &parser{project: project, values: values, secretKeys: secretKeys}
	p.rejectUnknownKeys()

	sizing, ok := values[p.key(KeySizing)]
	preset, known := presets[sizing]
	switch {
	case !ok || sizing == "":
		p.problem(p.key(KeySizing), "", "is required: one of "+strings.Join(SizingNames(), ", "))
	case !known:
		p.problem(p.key(KeySizing), sizing, "is not a sizing preset: one of "+strings.Join(SizingNames(), ", "))
	}

	s := &Stack{
		Project: project,
		Name:    stack,
		Region:  values[KeyRegion],
		Sizing:  sizing,
		Preset:  preset.clone(),
	}
	s.Provider = p.provider(p.secret)
	if tag, ok := values[p.key(KeyImageTag)]; ok && tag != "" {
		s.ImageTag = tag
	}

	p.decodeObject(KeyNetwork, &s.Network)
	p.decodeObject(KeyDatabase, &s.Database)
	p.decodeObject(KeyCache, &s.Cache)
	p.decodeObject(KeyCompute, &s.Compute)
	p.decodeObject(KeyLoadBalancer, &s.LoadBalancer)
	p.decodeObject(KeyLogs, &s.Logs)
	p.decodeObject(KeyDataProtection, &s.DataProtection)
	p.decodeObject(KeySiloSizing, &s.SiloSizing)
	p.decodeObject(KeyAlarms, &s.Alarms)
	p.decodeObject(KeyAlerts, &s.Alerts)
	p.decodeObject(KeyDomain, &s.Domain)
	p.decodeObject(KeyStaticAssets, &s.StaticAssets)
	p.decodeObject(KeyOnboarding, &s.Onboarding)
	// A stack that writes schedule.awake replaces the preset's windows
	// whole (`awake: []` is always on); one that does not keeps them.
	presetAwake := s.Schedule.Awake
	s.Schedule.Awake = nil
	p.decodeObject(KeySchedule, &s.Schedule)
	if s.Schedule.Awake == nil {
		s.Schedule.Awake = presetAwake
	}
	p.decodeList(KeyAdditionalRegions, &s.AdditionalRegions)

	var services []serviceEntry
	p.decodeList(KeyServices, &services)
	var tenants []tenantEntry
	p.decodeList(KeyTenants, &tenants)
	p.decodeList(KeyBuckets, &s.Buckets)

	if known {
		// Field checks need a complete preset to merge over; without one
		// they would only echo the sizing problem.
		v := &validator{parser: p, stack: s}
		v.validate(services, tenants)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return s, nil
}

// serviceEntry is a `services` item as written; pointers tell "absent" from 0.
type serviceEntry struct {
	Name            string   `json:"name"`
	Image           string   `json:"image"`
	Port            int      `json:"port"`
	CPU             *int     `json:"cpu"`
	Memory          *int     `json:"memory"`
	DesiredCount    *int     `json:"desiredCount"`
	MinCount        *int     `json:"minCount"`
	MaxCount        *int     `json:"maxCount"`
	HealthCheckPath string   `json:"healthCheckPath"`
	Paths           []string `json:"paths"`
	Hosts           []string `json:"hosts"`
	Priority        int      `json:"priority"`
	Capacity        string   `json:"capacity"`
	Schedule        string   `json:"schedule"`
	WebSockets      bool     `json:"websockets"`

	ContainerHealthCheck   *bool `json:"containerHealthCheck"`
	ReadOnlyRootFilesystem *bool `json:"readOnlyRootFilesystem"`
	ExecuteCommand         bool  `json:"executeCommand"`
	DatabaseConnections    *int  `json:"databaseConnections"`

	workloadEntry
}

// tenantEntry is a `tenants` item as written.
type tenantEntry struct {
	ID       string `json:"id"`
	Plan     string `json:"plan"`
	OnRemove string `json:"onRemove"`
	Pool     string `json:"pool"`
}

// Problem is one invalid value: the key, the value given, what is allowed.
type Problem struct {
	Key     string
	Value   string
	Allowed string
}

func (p Problem) String() string {
	if p.Value == "" {
		return fmt.Sprintf("%s %s", p.Key, p.Allowed)
	}
	return fmt.Sprintf("%s: %q %s", p.Key, p.Value, p.Allowed)
}

// Error reports every problem of a stack configuration at once.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	if len(e.Problems) == 1 {
		return "invalid stack config: " + e.Problems[0].String()
	}
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = "  - " + p.String()
	}
	return fmt.Sprintf("invalid stack config (%d problems):\n%s", len(e.Problems), strings.Join(lines, "\n"))
}

type parser struct {
	project    string
	values     map[string]string
	secretKeys []string
	problems   []Problem
	// unreadable are the keys whose value could not be decoded: checks of
	// the value left in their place would only repeat the problem.
	unreadable map[string]bool
}

func (p *parser) key(name string) string { return p.project + ":" + name }

func (p *parser) problem(key, value, allowed string) {
	if p.unreadable[key] {
		return
	}
	p.problems = append(p.problems, Problem{Key: key, Value: value, Allowed: allowed})
}

func (p *parser) err() error {
	if len(p.problems) == 0 {
		return nil
	}
	return &Error{Problems: p.problems}
}

// rejectUnknownKeys catches typos such as `saas-platform:tenant` or
// `saas-platfrom:tenants`, which the Pulumi CLI would pass through silently:
// a misspelt namespace would plan a stack without the section it meant,
// and deploying it would delete what the section listed.
func (p *parser) rejectUnknownKeys() {
	keys := make([]string, 0, len(p.values))
	for k := range p.values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	namespaces := []string{p.project, strings.TrimSuffix(AWSNamespace, ":")}
	for _, k := range keys {
		namespace, name, qualified := strings.Cut(k, ":")
		switch {
		case !qualified:
			p.problem(PathKey(k), "", fmt.Sprintf("has no namespace: write it as %s:%s", p.project, k))
		case namespace == p.project:
			if !slices.Contains(ProjectKeys(), name) {
				msg := "is not a setting of this program"
				if best := nearest(name, ProjectKeys()); best != "" {
					msg += fmt.Sprintf(": did you mean %s?", p.key(best))
				}
				p.problem(PathKey(k), "", msg+"; known settings are "+strings.Join(ProjectKeys(), ", "))
			}
		case namespace+":" == AWSNamespace:
			// The provider's keys, checked against its schema.
		default:
			msg := fmt.Sprintf("is in the namespace %s, which this program does not read: its settings are %s:* and aws:*", namespace, p.project)
			if best := nearest(namespace, namespaces); best != "" {
				suggestion := best + ":" + name
				if best == p.project {
					if known := nearest(name, ProjectKeys()); known != "" {
						suggestion = p.key(known)
					}
				}
				msg = fmt.Sprintf("is not read by this program: did you mean %s?", suggestion)
			}
			p.problem(PathKey(k), "", msg)
		}
	}
}

// decodeObject decodes a section onto target, which already holds the
// preset's values: keys present in the stack file override, absent keys keep
// the preset. Unknown keys are rejected, by the strict decoder.
func (p *parser) decodeObject(name string, target any) {
	p.decodeSection(name, target)
}

func (p *parser) decodeList(name string, target any) {
	p.decodeSection(name, target)
}

func (p *parser) decodeSection(name string, target any) {
	raw, ok := p.values[p.key(name)]
	if !ok || strings.TrimSpace(raw) == "" {
		return
	}
	p.decodeValue(p.key(name), raw, target, p.secret(p.key(name)))
}

func abbreviate(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

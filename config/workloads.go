package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/saas-platform/saas-platform/internal/imageref"
	"github.com/saas-platform/saas-platform/internal/repopath"
)

// SecretSource is where a service secret comes from; exactly one of
// Generate, Parameter, Secret and Reference is set.
type SecretSource struct {
	// Generate: a random value the stack keeps in Secrets Manager. One
	// value per environment and name: services that both generate
	// JWT_SECRET share it, so one can verify what the other signs.
	Generate bool `json:"generate"`
	// Parameter: an existing SSM parameter, by path.
	Parameter string `json:"parameter"`
	// Secret: an existing Secrets Manager secret, by ARN; Key picks one
	// key of a JSON secret.
	Secret string `json:"secret"`
	Key    string `json:"key"`
	// Reference is a secret the platform holds, written as a plain string:
	// `DATABASE_URL: ${database.url}`. It holds the reference's name
	// (database.url), without ${}.
	Reference string `json:"-"`
	// Written keeps the string as the stack file gave it, for messages.
	Written string `json:"-"`
}

// UnmarshalJSON reads either form of a secret: a string (a ${...}
// reference to a secret the platform holds) or an object, whose keys are
// checked as strictly as the rest of the stack file.
func (s *SecretSource) UnmarshalJSON(b []byte) error {
	var written string
	if err := json.Unmarshal(b, &written); err == nil {
		*s = SecretSource{Written: written}
		if refs := References(written); len(refs) == 1 && written == "${"+refs[0]+"}" {
			s.Reference = refs[0]
		}
		return nil
	}
	type object SecretSource // without this method
	var o object
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		return fmt.Errorf("must be a ${...} reference (%s) or an object with one of generate, parameter, secret: %w",
			strings.Join(SecretReferences, ", "), err)
	}
	*s = SecretSource(o)
	return nil
}

// Access modes of a bucket grant.
const (
	AccessRead      = "read"
	AccessWrite     = "write"
	AccessReadWrite = "readWrite"
)

// AccessGrant is one least-privilege permission of a service's task role.
type AccessGrant struct {
	SendEmail *SendEmail `json:"sendEmail"`
	Bucket    string     `json:"bucket"`
	Mode      string     `json:"mode"` // for Bucket: read, write, readWrite; default read
	// Tenants: read lets the service read every tenant's credentials
	// secret (pool and silo), and nothing else.
	Tenants string `json:"tenants"`
}

// SendEmail lets a service send mail through SES from one address.
type SendEmail struct {
	From string `json:"from"`
}

// PolicyStatement is an escape hatch for permissions no grant covers,
// checked so that it cannot become a wildcard.
type PolicyStatement struct {
	Sid       string                           `json:"sid"`
	Effect    string                           `json:"effect"`
	Action    StringList                       `json:"action"`
	Resource  StringList                       `json:"resource"`
	Condition map[string]map[string]StringList `json:"condition"`
}

// StringList reads a string or a list of strings, as IAM documents allow.
type StringList []string

// UnmarshalJSON implements json.Unmarshaler.
func (l *StringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = StringList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("must be a string or a list of strings")
	}
	*l = many
	return nil
}

// Environment reads a service's plain environment: YAML numbers and
// booleans are taken as their text, as a shell would.
type Environment map[string]string

// UnmarshalJSON implements json.Unmarshaler.
func (e *Environment) UnmarshalJSON(b []byte) error {
	var raw map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return fmt.Errorf("must be a map of names to values")
	}
	*e = Environment{}
	for k, v := range raw {
		switch t := v.(type) {
		case string:
			(*e)[k] = t
		case json.Number, bool:
			(*e)[k] = fmt.Sprint(t)
		default:
			return fmt.Errorf("%s must be a string, number or boolean", k)
		}
	}
	return nil
}

// Build says where a service's image is built from in this repository.
type Build struct {
	Context    string `json:"context"`
	Dockerfile string `json:"dockerfile"`
}

// Bucket is an entry of the top-level `buckets` list: storage the stack
// owns for its services.
type Bucket struct {
	Name            string `json:"name"`
	Versioned       bool   `json:"versioned"`
	ExpireAfterDays int    `json:"expireAfterDays"` // 0: objects never expire
}

// Metrics modes of a service.
const MetricsStatsd = "statsd"

// CPU architectures of a task.
const (
	ArchitectureX86 = "x86_64"
	ArchitectureARM = "arm64"
)

// Sidecar sizes, reserved out of the task's CPU and memory; the app keeps
// at least AppMinimumCPU and AppMinimumMemory.
const (
	TracingSidecarCPU    = 128
	TracingSidecarMemory = 256
	MetricsSidecarCPU    = 64
	MetricsSidecarMemory = 128
	AppMinimumCPU        = 128
	AppMinimumMemory     = 256
)

// References a service's environment may use, besides services.<name>.url
// and buckets.<name>.
const (
	RefCacheEndpoint = "cache.endpoint" // host:port of the configuration endpoint
	RefCacheHost     = "cache.host"     // the configuration endpoint's host name alone
	RefCachePort     = "cache.port"
	RefDatabaseHost  = "database.host"
	RefDatabasePort  = "database.port"
	RefDatabaseName  = "database.name"
	RefRegion        = "region"
	RefStack         = "stack"

	// Secret references: injected only through secrets, never plain.
	RefCacheAuthToken = "cache.authToken" // the Redis AUTH token
	RefDatabaseURL    = "database.url"    // the service's own login, as a postgres:// URL
	RefDatabaseSecret = "database.secret" // the same login as RDS-style JSON
)

// SecretReferences are the references that name a secret: a service
// injects them through secrets, as a plain string.
var SecretReferences = []string{RefCacheAuthToken, RefDatabaseSecret, RefDatabaseURL}

// ReadsTenants reports whether the service asked for access: [{tenants: read}].
func (s Service) ReadsTenants() bool {
	for _, g := range s.Access {
		if g.Tenants == AccessRead {
			return true
		}
	}
	return false
}

// PlatformEnvironment are the variables the platform sets in every
// container, each with the reference that has the same value where one
// does: a service may repeat such a name only with that reference.
var PlatformEnvironment = map[string]string{
	"APP_ENV":                     "${" + RefStack + "}",
	"AWS_REGION":                  "${" + RefRegion + "}",
	"DATABASE_HOST":               "${" + RefDatabaseHost + "}",
	"DATABASE_PORT":               "${" + RefDatabasePort + "}",
	"REDIS_HOST":                  "${" + RefCacheHost + "}",
	"REDIS_PORT":                  "${" + RefCachePort + "}",
	"SERVICE_NAME":                "",
	"PORT":                        "",
	"PARAMETER_PREFIX":            "",
	"TENANT_PARAMETER_PREFIX":     "",
	"OTEL_EXPORTER_OTLP_ENDPOINT": "",
	"OTEL_SERVICE_NAME":           "",
	"STATSD_HOST":                 "",
	"STATSD_PORT":                 "",
}

var (
	referencePattern = regexp.MustCompile(`\$\{([^}]*)\}`)
	envName          = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	parameterPath    = regexp.MustCompile(`^(/[A-Za-z0-9_.-]+)+$`)
	secretArn        = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$`)
	iamAction        = regexp.MustCompile(`^[a-z0-9-]+:[A-Za-z0-9*]+$`)
	policySid        = regexp.MustCompile(`^[A-Za-z0-9]{1,128}$`)
	bucketName       = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
)

// References lists the ${...} references in a value, in order.
func References(value string) []string {
	var refs []string
	for _, m := range referencePattern.FindAllStringSubmatch(value, -1) {
		refs = append(refs, m[1])
	}
	return refs
}

// ResourcelessActions take no resource ARN, so `Resource: "*"` is their only
// form; every other action must name its resources.
var ResourcelessActions = []string{
	"cloudwatch:PutMetricData", "ec2:DescribeAvailabilityZones", "ecr:GetAuthorizationToken",
	"logs:DescribeLogGroups", "ses:GetSendQuota", "sts:GetCallerIdentity",
	"xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:PutTelemetryRecords", "xray:PutTraceSegments",
}

// workloadEntry holds the per-service keys of the workloads section, as
// written; embedded in serviceEntry.
type workloadEntry struct {
	Environment         Environment             `json:"environment"`
	Secrets             map[string]SecretSource `json:"secrets"`
	Access              []AccessGrant           `json:"access"`
	PolicyStatements    []PolicyStatement       `json:"policyStatements"`
	Tracing             *bool                   `json:"tracing"`
	Metrics             string                  `json:"metrics"`
	StopTimeout         *int                    `json:"stopTimeout"`
	DeregistrationDelay *int                    `json:"deregistrationDelay"`
	Architecture        string                  `json:"architecture"`
	ImageTag            string                  `json:"imageTag"`
	Build               *Build                  `json:"build"`
	Command             []string                `json:"command"`
	Migrate             *Migrate                `json:"migrate"`
	Calls               []string                `json:"calls"`
	Uses                []string                `json:"uses"`
}

// resolveWorkload fills a service's workload keys from the entry and the
// preset.
func (v *validator) resolveWorkload(s *Service, e workloadEntry) {
	s.Environment = e.Environment
	s.Secrets = e.Secrets
	s.Access = e.Access
	s.PolicyStatements = e.PolicyStatements
	s.Tracing = v.stack.Compute.Tracing
	if e.Tracing != nil {
		s.Tracing = *e.Tracing
	}
	s.Metrics = e.Metrics
	s.DeregistrationDelay = 30
	if e.DeregistrationDelay != nil {
		s.DeregistrationDelay = *e.DeregistrationDelay
	}
	if e.StopTimeout != nil {
		s.StopTimeout = *e.StopTimeout
	}
	s.Architecture = e.Architecture
	if s.Architecture == "" {
		s.Architecture = ArchitectureX86
	}
	s.ImageTag = e.ImageTag
	if s.ImageTag == "" && s.Image == "" {
		s.ImageTag = v.stack.ImageTag
	}
	if e.Build != nil {
		s.Build = *e.Build
	}
	s.Command = e.Command
	s.Migrate = e.Migrate
	s.Calls = e.Calls
	s.Uses = e.Uses
	for i := range s.Access {
		if s.Access[i].Bucket != "" && s.Access[i].Mode == "" {
			s.Access[i].Mode = AccessRead
		}
	}
}

// workloadShape checks what a service's own keys can tell alone.
func (v *validator) workloadShape(key string, s Service, e workloadEntry) {
	switch {
	case s.Image != "" && e.ImageTag != "":
		v.problem(key+".imageTag", e.ImageTag, "cannot be set with image: image is a full reference, imageTag tags the service's own repository")
	case s.Image != "" && e.Build != nil:
		v.problem(key+".build", e.Build.Context, "cannot be set with image: an image built here is pushed to the service's own repository")
	case s.Image == "" && s.ImageTag == "":
		v.problem(key+".image", "", "is required: set image (a full reference), imageTag on the service, or the stack's saas-platform:imageTag "+
			"(repositories are immutable, so there is no moving latest tag)")
	}
	if s.ImageTag != "" && !imageref.ValidTag(s.ImageTag) {
		v.problem(key+".imageTag", s.ImageTag, imageref.TagRule)
	}
	if s.Architecture != ArchitectureX86 && s.Architecture != ArchitectureARM {
		v.problem(key+".architecture", s.Architecture, "must be x86_64 or arm64")
	}
	if s.Metrics != "" && s.Metrics != MetricsStatsd {
		v.problem(key+".metrics", s.Metrics, "must be statsd, or left out")
	}
	if e.StopTimeout != nil && (s.StopTimeout < 2 || s.StopTimeout > 120) {
		v.problem(key+".stopTimeout", strconv.Itoa(s.StopTimeout), "must be between 2 and 120 seconds (Fargate's limit)")
	}
	if s.DeregistrationDelay < 0 || s.DeregistrationDelay > 3600 {
		v.problem(key+".deregistrationDelay", strconv.Itoa(s.DeregistrationDelay), "must be between 0 and 3600 seconds")
	} else if e.DeregistrationDelay != nil && !s.Routed() {
		v.problem(key+".deregistrationDelay", strconv.Itoa(s.DeregistrationDelay), "needs paths: only a routed service has a target group")
	}
	if e.Build != nil {
		// The delivery tool builds from these paths with the same rule.
		if err := repopath.Check(e.Build.Context); e.Build.Context != "" && err != nil {
			v.problem(key+".build.context", e.Build.Context, err.Error())
		}
		if err := repopath.Check(e.Build.Dockerfile); e.Build.Dockerfile != "" && err != nil {
			v.problem(key+".build.dockerfile", e.Build.Dockerfile, err.Error())
		}
	}
	v.sidecarFit(key, s)
	v.secrets(key, s)
	v.migrate(key, s)
	v.policyStatements(key, s.PolicyStatements)
}

// masterSecretPrefix starts the name of every secret RDS manages for an
// instance's master user.
const masterSecretPrefix = "rds!"

// IsMasterSecret reports whether a Secrets Manager ARN (or name) is an
// RDS-managed master secret.
func IsMasterSecret(arn string) bool {
	name := arn
	if i := strings.Index(arn, ":secret:"); i >= 0 {
		name = arn[i+len(":secret:"):]
	}
	return strings.HasPrefix(name, masterSecretPrefix)
}

// MayMatchMasterSecret reports whether an IAM resource pattern could match
// an RDS-managed master secret: its secret name is one, or a wildcard
// comes before the name has ruled the rds! prefix out.
func MayMatchMasterSecret(resource string) bool {
	i := strings.Index(resource, ":secret:")
	if i < 0 {
		// Not a secret ARN: it covers a secret only through wildcards in
		// the ARN's other parts.
		return strings.ContainsAny(resource, "*?") && strings.HasPrefix(resource, "arn:")
	}
	name := resource[i+len(":secret:"):]
	literal, _, wild := strings.Cut(strings.NewReplacer("?", "*").Replace(name), "*")
	if !wild {
		return strings.HasPrefix(name, masterSecretPrefix)
	}
	return strings.HasPrefix(literal, masterSecretPrefix) || strings.HasPrefix(masterSecretPrefix, literal)
}

// migrate checks a service's migrate command.
func (v *validator) migrate(key string, s Service) {
	if s.Migrate == nil {
		return
	}
	if len(s.Migrate.Command) == 0 {
		v.problem(key+".migrate.command", "", "is required: the command (a list, such as [npm, run, migrate]) that brings one tenant's schema up to date")
	}
	size := 0
	for i, arg := range s.Migrate.Command {
		size += len(arg)
		switch {
		case strings.TrimSpace(arg) == "":
			v.problem(fmt.Sprintf("%s.migrate.command[%d]", key, i), arg, "must not be empty")
		case strings.ContainsRune(arg, 0):
			// The command is an argv (no shell): a NUL cannot be passed.
			v.problem(fmt.Sprintf("%s.migrate.command[%d]", key, i), arg, "must not contain a NUL character")
		}
	}
	if size > MaxMigrateCommandBytes {
		v.problem(key+".migrate.command", abbreviate(strings.Join(s.Migrate.Command, " ")),
			fmt.Sprintf("is %d bytes long: at most %d (ECS takes 8 KiB of overrides per task, with the tenant's variables); put a longer script in the image", size, MaxMigrateCommandBytes))
	}
}

// MaxMigrateCommandBytes bounds a migrate command: it travels as a RunTask
// override, and ECS takes at most 8,192 characters of overrides.
const MaxMigrateCommandBytes = 4096

// sidecarFit checks that the task leaves the app its minimum share once the
// sidecars have theirs.
func (v *validator) sidecarFit(key string, s Service) {
	cpu, memory, names := s.SidecarReservation()
	if len(names) == 0 {
		return
	}
	sidecars := strings.Join(names, " and ")
	if s.CPU-cpu < AppMinimumCPU {
		v.problem(key+".cpu", strconv.Itoa(s.CPU), fmt.Sprintf(
			"leaves %d CPU units for the app after the %s sidecars (%d): at least %d are needed; use a larger cpu", s.CPU-cpu, sidecars, cpu, AppMinimumCPU))
	}
	if s.Memory-memory < AppMinimumMemory {
		v.problem(key+".memory", strconv.Itoa(s.Memory), fmt.Sprintf(
			"leaves %d MiB for the app after the %s sidecars (%d MiB): at least %d MiB are needed; use a larger memory", s.Memory-memory, sidecars, memory, AppMinimumMemory))
	}
}

// SidecarReservation is the CPU and memory the service's sidecars take, and
// their names.
func (s Service) SidecarReservation() (cpu, memory int, names []string) {
	if s.Tracing {
		cpu, memory, names = cpu+TracingSidecarCPU, memory+TracingSidecarMemory, append(names, "tracing")
	}
	if s.Metrics == MetricsStatsd {
		cpu, memory, names = cpu+MetricsSidecarCPU, memory+MetricsSidecarMemory, append(names, "metrics")
	}
	return cpu, memory, names
}

func (v *validator) secrets(key string, s Service) {
	for _, name := range slices.Sorted(maps.Keys(s.Secrets)) {
		src := s.Secrets[name]
		k := key + ".secrets." + PathKey(name)
		if !envName.MatchString(name) {
			v.problem(k, name, "must be an environment variable name: letters, digits and _, not starting with a digit")
		}
		if _, platform := PlatformEnvironment[name]; platform {
			v.problem(k, name, "is a variable the platform sets itself: choose another name")
		}
		if _, plain := s.Environment[name]; plain {
			v.problem(k, name, "is also in environment: a variable is either plain or secret")
		}
		if src.Written != "" || src.Reference != "" {
			if !slices.Contains(SecretReferences, src.Reference) {
				v.problem(k, src.Written, "must be a reference to a secret the platform holds, written alone: one of ${"+
					strings.Join(SecretReferences, "}, ${")+"}; or an object with one of generate, parameter, secret")
			}
			continue
		}
		set := 0
		for _, given := range []bool{src.Generate, src.Parameter != "", src.Secret != ""} {
			if given {
				set++
			}
		}
		switch {
		case set != 1:
			v.problem(k, "", "must have exactly one of generate: true, parameter: <SSM path>, secret: <Secrets Manager ARN>, or be a reference such as ${"+RefDatabaseURL+"}")
		case src.Secret != "" && IsMasterSecret(src.Secret):
			v.problem(k+".secret", src.Secret, "is an RDS-managed master secret: only the provisioner reads those; "+
				"use ${"+RefDatabaseURL+"} or ${"+RefDatabaseSecret+"} (the service's own login), or access: [{tenants: read}] for tenants' credentials")
		case src.Parameter != "" && (!parameterPath.MatchString(src.Parameter) || len(src.Parameter) > 2048):
			v.problem(k+".parameter", src.Parameter, "must be an SSM parameter path such as /saas-platform/prod/weather-api-key")
		case src.Secret != "" && !secretArn.MatchString(src.Secret):
			v.problem(k+".secret", src.Secret, "must be a Secrets Manager secret ARN: arn:aws:secretsmanager:<region>:<account>:secret:<name>")
		}
		if src.Key != "" && src.Secret == "" {
			v.problem(k+".key", src.Key, "goes with secret: it picks one key of a JSON secret")
		}
	}
}

func (v *validator) policyStatements(key string, statements []PolicyStatement) {
	sids := map[string]int{}
	for i, st := range statements {
		k := fmt.Sprintf("%s.policyStatements[%d]", key, i)
		// IAM refuses, at deploy time, a Sid that is not alphanumeric or
		// that two statements of one policy share.
		first, dup := sids[st.Sid]
		switch {
		case st.Sid != "" && !policySid.MatchString(st.Sid):
			v.problem(k+".sid", st.Sid, "must be letters and digits only (IAM's rule for a statement id)")
		case st.Sid != "" && dup:
			v.problem(k+".sid", st.Sid, fmt.Sprintf("is already the sid of policyStatements[%d]: statement ids must be unique in a policy", first))
		}
		sids[st.Sid] = i
		if st.Effect != "" && st.Effect != "Allow" && st.Effect != "Deny" {
			v.problem(k+".effect", st.Effect, "must be Allow or Deny")
		}
		if len(st.Action) == 0 {
			v.problem(k+".action", "", "is required: one or more service:Action names")
		}
		resourceless := len(st.Action) > 0
		secrets := false
		for _, a := range st.Action {
			secrets = secrets || strings.HasPrefix(strings.ToLower(a), "secretsmanager:")
			switch {
			case a == "*" || strings.HasSuffix(a, ":*"):
				v.problem(k+".action", a, "grants every action: name the actions the service needs, such as s3:GetObject")
			case !iamAction.MatchString(a):
				v.problem(k+".action", a, "must be service:Action, such as sqs:SendMessage")
			}
			resourceless = resourceless && slices.Contains(ResourcelessActions, a)
		}
		if len(st.Resource) == 0 {
			v.problem(k+".resource", "", "is required: the ARNs the actions apply to")
		}
		if slices.Contains(st.Resource, "*") && !resourceless {
			v.problem(k+".resource", "*", "is only allowed for actions that take no resource ("+strings.Join(ResourcelessActions, ", ")+"): name the ARNs")
		}
		for _, r := range st.Resource {
			if secrets && st.Effect != "Deny" && r != "*" && MayMatchMasterSecret(r) {
				v.problem(k+".resource", r, "could match an RDS-managed master secret (rds!...): only the provisioner reads those; name the secrets the service needs")
			}
		}
	}
}

// buckets checks the top-level `buckets` list.
func (v *validator) buckets() {
	seen := map[string]bool{}
	// Bucket names: <project>-<stack>-<name>-<8 characters Pulumi adds>,
	// at most 63.
	maxLen := 63 - len(v.stack.Project) - len(v.stack.Name) - 2 - 8
	for i, b := range v.stack.Buckets {
		k := fmt.Sprintf("%s[%d]", v.key(KeyBuckets), i)
		switch {
		case !bucketName.MatchString(b.Name) || strings.Contains(b.Name, ".") || len(b.Name) > maxLen:
			v.problem(k+".name", b.Name, fmt.Sprintf("must be lowercase letters, digits and hyphens, at most %d characters in this stack", maxLen))
		case seen[b.Name]:
			v.problem(k+".name", b.Name, "is already used: bucket names must be unique")
		}
		seen[b.Name] = true
		if b.ExpireAfterDays < 0 || b.ExpireAfterDays > 36500 {
			v.problem(k+".expireAfterDays", strconv.Itoa(b.ExpireAfterDays), "must be 0 (never) or a number of days up to 36500")
		}
	}
}

// workloadReferences checks what needs every service and bucket known:
// references, access grants and platform names.
func (v *validator) workloadReferences() {
	known := []string{RefCacheEndpoint, RefCacheHost, RefCachePort, RefDatabaseHost, RefDatabaseName, RefDatabasePort, RefRegion, RefStack}
	buckets := map[string]bool{}
	for _, b := range v.stack.Buckets {
		buckets[b.Name] = true
		known = append(known, "buckets."+b.Name)
	}
	for _, s := range v.stack.Services {
		if !s.Scheduled() {
			known = append(known, "services."+s.Name+".url")
		}
		if s.Routed() {
			known = append(known, "services."+s.Name+".publicUrl")
		}
	}
	sort.Strings(known)
	for i, s := range v.stack.Services {
		key := v.serviceKey(i, s.Name)
		for _, name := range slices.Sorted(maps.Keys(s.Environment)) {
			value := s.Environment[name]
			k := key + ".environment." + PathKey(name)
			if !envName.MatchString(name) {
				v.problem(k, name, "must be an environment variable name: letters, digits and _, not starting with a digit")
			}
			if same, platform := PlatformEnvironment[name]; platform && value != same {
				allowed := "is a variable the platform sets itself: choose another name"
				if same != "" {
					allowed += " (or give it the platform's own value, " + same + ")"
				}
				v.problem(k, value, allowed)
			}
			if bad, ok := referenceSyntax(value); !ok {
				v.problem(k, value, fmt.Sprintf("has %s, which is not a reference: write ${name} with a name from %s", bad, strings.Join(known, ", ")))
				continue
			}
			for _, ref := range References(value) {
				if slices.Contains(SecretReferences, ref) {
					v.problem(k, "${"+ref+"}", "is a secret: inject it through secrets, never as a plain variable ("+
						key+".secrets."+name+": ${"+ref+"})")
					continue
				}
				if !slices.Contains(known, ref) {
					v.problem(k, "${"+ref+"}", v.unknownReference(ref, known))
				}
			}
		}
		v.dependencies(key, s)
		for j, g := range s.Access {
			k := fmt.Sprintf("%s.access[%d]", key, j)
			kinds := 0
			for _, given := range []bool{g.SendEmail != nil, g.Bucket != "", g.Tenants != ""} {
				if given {
					kinds++
				}
			}
			switch {
			case kinds != 1:
				v.problem(k, "", "must have exactly one of sendEmail: {from: <address>}, bucket: <name>, tenants: read")
			case g.Tenants != "" && g.Tenants != AccessRead:
				v.problem(k+".tenants", g.Tenants, "must be read: services read tenants' credentials, only the provisioner writes them")
			case g.SendEmail != nil && !ValidEmail(g.SendEmail.From):
				v.problem(k+".sendEmail.from", g.SendEmail.From, "is the address the service sends from: "+EmailRule)
			case g.Bucket != "" && !buckets[g.Bucket]:
				v.problem(k+".bucket", g.Bucket, "is not in saas-platform:buckets: add it there (the stack owns the buckets its services use)")
			case g.Bucket != "" && !slices.Contains([]string{AccessRead, AccessWrite, AccessReadWrite}, g.Mode):
				v.problem(k+".mode", g.Mode, "must be read, write or readWrite")
			}
		}
	}
}

// unknownReference explains why a reference is not known: a service
// reference gets the reason its service has no such address.
func (v *validator) unknownReference(ref string, known []string) string {
	if rest, ok := strings.CutPrefix(ref, "services."); ok {
		name, attr, _ := strings.Cut(rest, ".")
		for _, s := range v.stack.Services {
			switch {
			case s.Name != name:
			case s.Scheduled():
				return "names a scheduled task: it takes no calls and has no URL; known references are " + strings.Join(known, ", ")
			case attr == "publicUrl":
				return "names a service that is not routed (no paths or hosts): it has no public URL; use ${services." + name + ".url}, its private one"
			default:
				return "is not an address of service " + name + ": use ${services." + name + ".url} (private, inside the VPC)" +
					" or ${services." + name + ".publicUrl} (public, routed services only)"
			}
		}
	}
	return "is not a known reference: one of " + strings.Join(known, ", ")
}

// dependencies checks a service's `calls` and `uses`: every name a
// long-running service of the stack, every store one the stack has, each
// once.
func (v *validator) dependencies(key string, s Service) {
	services := map[string]Service{}
	var names []string
	for _, other := range v.stack.Services {
		services[other.Name] = other
		if !other.Scheduled() {
			names = append(names, other.Name)
		}
	}
	seen := map[string]bool{}
	for i, name := range s.Calls {
		k := fmt.Sprintf("%s.calls[%d]", key, i)
		callee, ok := services[name]
		switch {
		case !ok:
			v.problem(k, name, "is not a service of this stack: one of "+strings.Join(names, ", "))
		case callee.Scheduled():
			v.problem(k, name, "is a scheduled task: it takes no calls; one of "+strings.Join(names, ", "))
		case seen[name]:
			v.problem(k, name, "is listed twice")
		}
		seen[name] = true
	}
	seen = map[string]bool{}
	for i, store := range s.Uses {
		k := fmt.Sprintf("%s.uses[%d]", key, i)
		switch {
		case !slices.Contains(Stores, store):
			v.problem(k, store, "must be one of "+strings.Join(Stores, ", ")+" (PostgreSQL, Redis)")
		case seen[store]:
			v.problem(k, store, "is listed twice")
		}
		seen[store] = true
	}
}

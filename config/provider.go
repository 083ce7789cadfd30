package config

import (
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
)

// AWSNamespace prefixes the AWS provider's settings in a stack file.
const AWSNamespace = "aws:"

// ProviderSettings are the stack file's `aws:*` keys other than aws:region.
// The program builds its AWS provider explicitly (to tag every resource and
// hand the provider to awsx), and an explicit provider reads no stack config
// of its own: these settings are what carries profile, assumeRole,
// allowedAccountIds, endpoints and the rest to AWS.
type ProviderSettings struct {
	// Values maps a provider key (without "aws:") to its value, decoded into
	// the plain type the pinned provider's own arguments take for that key:
	// *string, *bool, *int, []string, *aws.ProviderAssumeRole,
	// []aws.ProviderEndpoint, ...
	Values map[string]any
	// Secret holds the keys the stack file gives as Pulumi secrets; they
	// stay secret on the provider.
	Secret map[string]bool
	// DefaultTags are the stack file's aws:defaultTags, merged with the
	// program's own tags (see Stack.Tags).
	DefaultTags map[string]string
}

// Keys lists the provider keys set, sorted.
func (p ProviderSettings) Keys() []string {
	keys := make([]string, 0, len(p.Values))
	for k := range p.Values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ManagedBy is the value of the ManagedBy tag on every resource.
const ManagedBy = "pulumi"

// Tags are put on every resource through the AWS provider's default tags,
// which reach the children of awsx components too: the program's own
// Project, Environment and ManagedBy, and the stack file's aws:defaultTags.
func (s *Stack) Tags() map[string]string {
	tags := maps.Clone(s.Provider.DefaultTags)
	if tags == nil {
		tags = map[string]string{}
	}
	tags[TagProject], tags[TagEnvironment], tags[TagManagedBy] = s.Project, s.Name, ManagedBy
	return tags
}

// The tags the program sets itself.
const (
	TagProject     = "Project"
	TagEnvironment = "Environment"
	TagManagedBy   = "ManagedBy"
)

// providerSchema maps each setting of the pinned AWS provider to its Go
// field, read from the provider SDK's own argument type, so that the keys
// this program accepts are exactly those the provider version documents.
var providerSchema = func() map[string]reflect.StructField {
	t := aws.ProviderArgs{}.ElementType()
	fields := map[string]reflect.StructField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if key := f.Tag.Get("pulumi"); key != "" {
			fields[key] = f
		}
	}
	return fields
}()

// ProviderKeys lists every aws:* key the pinned provider accepts, sorted.
func ProviderKeys() []string {
	keys := make([]string, 0, len(providerSchema))
	for k := range providerSchema {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ProviderField names the field of aws.ProviderArgs that takes a key.
func ProviderField(key string) (string, bool) {
	f, ok := providerSchema[key]
	return f.Name, ok
}

var (
	// tagText is what AWS allows in tag keys and values.
	tagText   = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
	accountID = regexp.MustCompile(`^[0-9]{12}$`)
	roleArn   = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$`)
)

// provider decodes and checks every aws:* key of the stack file.
func (p *parser) provider(secret func(string) bool) ProviderSettings {
	settings := ProviderSettings{Values: map[string]any{}, Secret: map[string]bool{}}
	keys := make([]string, 0, len(p.values))
	for k := range p.values {
		if strings.HasPrefix(k, AWSNamespace) && k != KeyRegion {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, full := range keys {
		key := strings.TrimPrefix(full, AWSNamespace)
		raw := p.values[full]
		field, known := providerSchema[key]
		if !known {
			p.problem(PathKey(full), "", unknownProviderKey(key))
			continue
		}
		if strings.TrimSpace(raw) == "" {
			continue
		}
		value, ok := p.decodeProviderValue(full, raw, field.Type)
		if !ok {
			continue
		}
		if key == "defaultTags" {
			settings.DefaultTags = p.defaultTags(full, value.(*aws.ProviderDefaultTags))
			continue
		}
		settings.Values[key] = value
		if secret(full) {
			settings.Secret[key] = true
		}
	}
	p.checkProvider(settings)
	return settings
}

// decodeProviderValue turns the engine's string form of a value (scalars as
// text, objects and lists as JSON) into the provider's plain type.
func (p *parser) decodeProviderValue(key, raw string, t reflect.Type) (any, bool) {
	shown := raw
	if p.secret(key) {
		shown = SecretPlaceholder
	}
	ptr := reflect.New(t)
	switch {
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.String:
		if v, err := parseJSON(raw); err == nil {
			if _, scalar := v.(string); !scalar && (strings.HasPrefix(raw, "[") || strings.HasPrefix(raw, "{")) {
				p.problem(key, abbreviate(shown), "must be a string, not "+kindOf(v))
				return nil, false
			}
		}
		s := raw
		ptr.Elem().Set(reflect.ValueOf(&s))
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			p.problem(key, shown, "must be true or false")
			return nil, false
		}
		ptr.Elem().Set(reflect.ValueOf(&b))
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Int:
		n, err := strconv.Atoi(raw)
		if err != nil {
			p.problem(key, shown, "must be a whole number")
			return nil, false
		}
		ptr.Elem().Set(reflect.ValueOf(&n))
	default:
		before := len(p.problems)
		if _, err := parseJSON(raw); err != nil {
			p.problem(key, abbreviate(shown), "must be "+providerShape(t))
			return nil, false
		}
		p.decodeValue(key, raw, ptr.Interface(), p.secret(key))
		if len(p.problems) > before {
			return nil, false
		}
	}
	return ptr.Elem().Interface(), true
}

func (p *parser) secret(key string) bool {
	return slices.Contains(p.secretKeys, key)
}

// providerShape describes a provider type as a stack file writes it.
func providerShape(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice:
		if t.Elem().Kind() == reflect.String {
			return "a list of strings (quote account ids: \"123456789012\")"
		}
		return "a list of " + providerShape(t.Elem())
	case reflect.Map:
		return "a map of strings"
	case reflect.Struct:
		if t == reflect.TypeOf(aws.ProviderEndpoint{}) {
			return "objects mapping an AWS service (s3, sts, ec2, ...) to its endpoint URL"
		}
		return "an object with the keys " + strings.Join(pulumiKeys(t), ", ")
	default:
		return "a " + t.Kind().String()
	}
}

func pulumiKeys(t reflect.Type) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		if k := t.Field(i).Tag.Get("pulumi"); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

// unknownProviderKey explains a key the provider does not have, suggesting
// the nearest one: a misspelt aws:allowedAccountId would otherwise be
// dropped without a word, and with it the account guard.
func unknownProviderKey(key string) string {
	best, bestDistance := "", 4
	for _, known := range ProviderKeys() {
		if d := editDistance(strings.ToLower(key), strings.ToLower(known)); d < bestDistance {
			best, bestDistance = known, d
		}
	}
	msg := "is not a setting of the AWS provider"
	if best != "" {
		msg += fmt.Sprintf(": did you mean aws:%s?", best)
	}
	return msg + " Known settings: aws:" + strings.Join(ProviderKeys(), ", aws:")
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// defaultTags accepts the stack file's own default tags, except where they
// would overwrite the program's tags, on which cost reports, IAM conditions
// and the environment's dashboards rely.
func (p *parser) defaultTags(key string, tags *aws.ProviderDefaultTags) map[string]string {
	if tags == nil {
		return nil
	}
	for _, k := range slices.Sorted(maps.Keys(tags.Tags)) {
		path := key + ".tags." + PathKey(k)
		switch v := tags.Tags[k]; {
		case k == TagProject || k == TagEnvironment || k == TagManagedBy:
			p.problem(path, v, "is a tag the program sets itself (Project, Environment, ManagedBy): remove it or use another tag key")
		case !tagText.MatchString(k) || k == "" || utf8.RuneCountInString(k) > 128 || strings.HasPrefix(strings.ToLower(k), "aws:"):
			p.problem(path, k, "is not a tag key AWS accepts: 1 to 128 letters, digits, spaces and _ . : / = + - @, not starting with aws:")
		case !tagText.MatchString(v) || utf8.RuneCountInString(v) > 256:
			p.problem(path, v, "is not a tag value AWS accepts: up to 256 letters, digits, spaces and _ . : / = + - @")
		}
	}
	return tags.Tags
}

// checkProvider catches settings the provider would only refuse at deploy
// time, or would take in a way that silently defeats them.
func (p *parser) checkProvider(s ProviderSettings) {
	ids := func(key string) []string {
		v, _ := s.Values[key].([]string)
		return v
	}
	for _, key := range []string{"allowedAccountIds", "forbiddenAccountIds"} {
		for _, id := range ids(key) {
			if !accountID.MatchString(id) {
				p.problem(AWSNamespace+key, id, "must be a 12-digit AWS account id, quoted in YAML so that leading zeros survive")
			}
		}
	}
	if len(ids("allowedAccountIds")) > 0 && len(ids("forbiddenAccountIds")) > 0 {
		p.problem(AWSNamespace+"forbiddenAccountIds", strings.Join(ids("forbiddenAccountIds"), ","),
			"cannot be set together with aws:allowedAccountIds: the provider takes one or the other")
	}
	if mode, ok := s.Values["retryMode"].(*string); ok && mode != nil && *mode != "standard" && *mode != "adaptive" {
		p.problem(AWSNamespace+"retryMode", *mode, "must be standard or adaptive")
	}
	if n, ok := s.Values["maxRetries"].(*int); ok && n != nil && (*n < 0 || *n > 100) {
		p.problem(AWSNamespace+"maxRetries", strconv.Itoa(*n), "must be between 0 and 100")
	}
	if role, ok := s.Values["assumeRole"].(*aws.ProviderAssumeRole); ok && role != nil {
		p.checkAssumeRole(role, s.Secret["assumeRole"])
	}
	if endpoints, ok := s.Values["endpoints"].([]aws.ProviderEndpoint); ok {
		p.checkEndpoints(endpoints)
	}
}

func (p *parser) checkAssumeRole(role *aws.ProviderAssumeRole, secret bool) {
	key := AWSNamespace + "assumeRole"
	switch {
	case role.RoleArn == nil || *role.RoleArn == "":
		p.problem(key+".roleArn", "", "is required: the ARN of the role to deploy as, such as arn:aws:iam::123456789012:role/deploy")
	case !secret && !roleArn.MatchString(*role.RoleArn):
		p.problem(key+".roleArn", *role.RoleArn, "must be an IAM role ARN such as arn:aws:iam::123456789012:role/deploy")
	}
	if role.Duration != nil && *role.Duration != "" && !secret {
		d, err := time.ParseDuration(*role.Duration)
		if err != nil || d < 15*time.Minute || d > 12*time.Hour {
			p.problem(key+".duration", *role.Duration, "must be a duration between 15m and 12h, such as 1h")
		}
	}
	if role.SessionName != nil && len(*role.SessionName) > 64 {
		p.problem(key+".sessionName", *role.SessionName, "must be at most 64 characters")
	}
}

// checkEndpoints requires URLs: a bare host name makes the AWS SDK fail at
// deploy time with a message that names no setting.
func (p *parser) checkEndpoints(endpoints []aws.ProviderEndpoint) {
	for i, e := range endpoints {
		v := reflect.ValueOf(e)
		for j := 0; j < v.NumField(); j++ {
			s, ok := v.Field(j).Interface().(*string)
			if !ok || s == nil {
				continue
			}
			u, err := url.Parse(*s)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				p.problem(fmt.Sprintf("%sendpoints[%d].%s", AWSNamespace, i, v.Type().Field(j).Tag.Get("pulumi")), *s,
					"must be an http or https URL, such as http://localhost:5000")
			}
		}
	}
}

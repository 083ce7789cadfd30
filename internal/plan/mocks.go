// Package plan runs the whole saas-platform program offline, under a
// recording Pulumi mock that answers like AWS would, and renders what the
// program would register. The offline plan command and every test use this
// one mock.
package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// AccountID is the AWS account the mock pretends to be.
const AccountID = "123456789012"

const stackReferenceType = "pulumi:pulumi:StackReference"

// Resource is one registration the program made.
type Resource struct {
	URN          string         `json:"urn"`
	Type         string         `json:"type"`
	Name         string         `json:"name"`
	Parent       string         `json:"parent,omitempty"`
	Dependencies []string       `json:"dependencies"`
	Inputs       map[string]any `json:"inputs"`
	Options      Options        `json:"options"`

	// ID is the physical id the mock gave the resource.
	ID string `json:"-"`
	// Custom is false for component resources.
	Custom bool `json:"-"`
	// Provider is the URN of the provider that manages the resource; for a
	// component, Providers holds those it hands to its children.
	Provider  string            `json:"-"`
	Providers map[string]string `json:"-"`
}

// Options are the resource options that matter for review.
type Options struct {
	Protect             bool     `json:"protect,omitempty"`
	RetainOnDelete      bool     `json:"retainOnDelete,omitempty"`
	DeleteBeforeReplace bool     `json:"deleteBeforeReplace,omitempty"`
	IgnoreChanges       []string `json:"ignoreChanges,omitempty"`
	ReplaceOnChanges    []string `json:"replaceOnChanges,omitempty"`
	Provider            string   `json:"provider,omitempty"`
}

// Mocks implements pulumi.MockResourceMonitor: it records every resource,
// and answers resources and function calls with outputs shaped like AWS's.
type Mocks struct {
	project, stack, region string
	// previous are the outputs of an earlier deployment, returned when the
	// program reads its own stack.
	previous map[string]any
	// withheld are outputs AWS left out, by resource type: what a partial
	// failure looks like to the program.
	withheld map[string][]string

	mu        sync.Mutex
	resources []Resource
	invokes   []Invoke
	// regions are the regions of the AWS providers, by URN: a resource
	// lives in its provider's region.
	regions map[string]string
	// urns are the URNs registered so far.
	urns map[string]bool
	// subnetCidrs are the awsx VPC's subnets' CIDRs, by subnet id.
	subnetCidrs map[string]string
}

// Invoke is one function call (data source) the program made.
type Invoke struct {
	Token string
	// Provider is the URN of the provider that answered it: the account and
	// region the answer describes.
	Provider string
}

// NewMocks returns a recording mock for one stack in one region.
func NewMocks(project, stack, region string) *Mocks {
	return &Mocks{project: project, stack: stack, region: region}
}

// WithPrevious makes the mock answer the program's read of its own stack
// with these outputs, as if the stack had been deployed before.
func (m *Mocks) WithPrevious(outputs map[string]any) *Mocks {
	m.previous = outputs
	return m
}

// Withholding makes the mock leave an output out of every resource of a
// type, as AWS does when a creation fails part-way: the program must report
// it, never index into the missing value.
func (m *Mocks) Withholding(typ, output string) *Mocks {
	if m.withheld == nil {
		m.withheld = map[string][]string{}
	}
	m.withheld[typ] = append(m.withheld[typ], output)
	return m
}

// Invokes returns the function calls the program made, sorted by token.
func (m *Mocks) Invokes() []Invoke {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := append([]Invoke(nil), m.invokes...)
	sort.Slice(out, func(i, j int) bool { return out[i].Token < out[j].Token })
	return out
}

// Resources returns what was registered, sorted by URN: registration order
// varies from run to run, and a plan must be diffable.
func (m *Mocks) Resources() []Resource {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := append([]Resource(nil), m.resources...)
	sort.Slice(out, func(i, j int) bool { return out[i].URN < out[j].URN })
	return out
}

// NewResource records a registration and returns the resource's state.
func (m *Mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	rpc := args.RegisterRPC
	r := Resource{
		Type:         args.TypeToken,
		Name:         args.Name,
		Custom:       args.Custom,
		Inputs:       Plain(args.Inputs),
		Dependencies: []string{},
		Provider:     providerURN(args.Provider),
	}
	if read := args.ReadRPC; read != nil {
		r.Parent = read.GetParent()
		r.Options.Provider = r.Provider
	}
	if rpc != nil {
		r.Parent = rpc.GetParent()
		r.Dependencies = append(r.Dependencies, rpc.GetDependencies()...)
		sort.Strings(r.Dependencies)
		r.Options = Options{
			Protect:             rpc.GetProtect(),
			RetainOnDelete:      rpc.GetRetainOnDelete(),
			DeleteBeforeReplace: rpc.GetDeleteBeforeReplace(),
			IgnoreChanges:       rpc.GetIgnoreChanges(),
			ReplaceOnChanges:    rpc.GetReplaceOnChanges(),
			Provider:            r.Provider,
		}
		if len(rpc.GetProviders()) > 0 {
			r.Providers = map[string]string{}
			for pkg, ref := range rpc.GetProviders() {
				r.Providers[pkg] = providerURN(ref)
			}
		}
	}
	r.URN = m.urn(r.Parent, r.Type, r.Name)
	if err := m.claim(r.URN); err != nil {
		return "", nil, err
	}
	if region, ok := args.Inputs["region"]; ok && r.Type == "pulumi:providers:aws" && region.IsString() {
		m.mu.Lock()
		if m.regions == nil {
			m.regions = map[string]string{}
		}
		m.regions[r.URN] = region.StringValue()
		m.mu.Unlock()
	}

	id := args.ID
	state := args.Inputs.Copy()
	if args.TypeToken == stackReferenceType {
		state["outputs"] = resource.NewObjectProperty(resource.NewPropertyMapFromMap(m.previous))
		state["secretOutputNames"] = resource.NewArrayProperty(nil)
	} else if args.Custom || strings.HasPrefix(args.TypeToken, "awsx:") {
		id = m.physicalID(r)
		r.ID = id
		for k, v := range m.outputs(r, id, args.Inputs) {
			state[k] = v
		}
		for _, k := range m.withheld[r.Type] {
			delete(state, resource.PropertyKey(k))
		}
	}

	m.mu.Lock()
	m.resources = append(m.resources, r)
	m.mu.Unlock()
	return id, state, nil
}

// claim records a URN, refusing one already registered: the Pulumi engine
// fails a deployment that registers two resources under one URN ("Duplicate
// resource URN"), so a plan that did would promise what `pulumi up` cannot
// do.
func (m *Mocks) claim(urn string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.urns[urn] {
		return fmt.Errorf("two resources are named %s: pulumi up refuses a duplicate resource URN, so the plan does too; give one of them another name", urn)
	}
	if m.urns == nil {
		m.urns = map[string]bool{}
	}
	m.urns[urn] = true
	return nil
}

// Call answers the functions the program invokes; an unknown function is an
// error, so that a new lookup is noticed instead of silently returning nothing.
func (m *Mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	answer, ok := functions[args.Token]
	if !ok {
		return nil, fmt.Errorf("the offline mock has no answer for %s: add one to internal/plan", args.Token)
	}
	m.mu.Lock()
	m.invokes = append(m.invokes, Invoke{Token: args.Token, Provider: providerURN(args.Provider)})
	m.mu.Unlock()
	return resource.NewPropertyMapFromMap(answer(m, Plain(args.Args))), nil
}

// physicalID makes a stable, AWS-shaped id from the URN, so that plans are
// reproducible and diffable.
func (m *Mocks) physicalID(r Resource) string {
	sum := sha256.Sum256([]byte(r.URN))
	hash := hex.EncodeToString(sum[:])
	if prefix, ok := idPrefixes[r.Type]; ok {
		return prefix + hash[:17]
	}
	return r.Name + "-" + hash[:7]
}

func (m *Mocks) arn(service, resourcePart string) string {
	region := m.region
	if service == "iam" {
		region = ""
	}
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, region, AccountID, resourcePart)
}

// urn names a resource the way the SDK's mock monitor does: children of the
// root stack carry no parent type.
func (m *Mocks) urn(parent, typ, name string) string {
	parentType := tokens.Type("")
	if p := resource.URN(parent); p != "" && p.QualifiedType() != resource.RootStackType {
		parentType = p.QualifiedType()
	}
	return string(resource.NewURN(tokens.QName(m.stack), tokens.PackageName(m.project), parentType, tokens.Type(typ), name))
}

func providerURN(ref string) string {
	if i := strings.LastIndex(ref, "::"); i > 0 {
		return ref[:i]
	}
	return ref
}

// Plain turns a property map into plain Go values: secrets become
// "[secret]", unknowns "[unknown]", resource references their URN.
func Plain(props resource.PropertyMap) map[string]any {
	out := make(map[string]any, len(props))
	for k, v := range props {
		out[string(k)] = plainValue(v)
	}
	return out
}

func plainValue(v resource.PropertyValue) any {
	switch {
	case v.IsSecret():
		return "[secret]"
	case v.IsComputed(), v.IsOutput() && !v.OutputValue().Known:
		return "[unknown]"
	case v.IsOutput():
		return plainValue(v.OutputValue().Element)
	case v.IsResourceReference():
		return string(v.ResourceReferenceValue().URN)
	case v.IsObject():
		return Plain(v.ObjectValue())
	case v.IsArray():
		items := v.ArrayValue()
		out := make([]any, len(items))
		for i, item := range items {
			out[i] = plainValue(item)
		}
		return out
	case v.IsAsset(), v.IsArchive():
		return "[asset]"
	default:
		return v.V
	}
}

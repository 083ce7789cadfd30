package platform

import (
	"fmt"
	"reflect"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/config"
)

// NewProvider makes the AWS provider that manages a stack's resources in
// region: every aws:* setting of the stack file (profile, assumeRole,
// allowedAccountIds, endpoints, ...), secrets kept secret, and the stack's
// default tags. A provider for a second region (disaster recovery,
// us-east-1 for CloudFront) is the same call with another region, so that
// it deploys into the same account through the same role.
func NewProvider(ctx *pulumi.Context, name string, cfg *config.Stack, region string, opts ...pulumi.ResourceOption) (*aws.Provider, error) {
	args, err := ProviderArgs(cfg, region)
	if err != nil {
		return nil, fmt.Errorf("aws provider %s: %w", name, err)
	}
	provider, err := aws.NewProvider(ctx, name, args, opts...)
	if err != nil {
		return nil, fmt.Errorf("aws provider %s: %w", name, err)
	}
	return provider, nil
}

// ProviderArgs translates the stack's provider settings into the provider's
// arguments. config decoded each value into the plain type of the field that
// takes it, so each one converts to that field's input type as it is.
func ProviderArgs(cfg *config.Stack, region string) (*aws.ProviderArgs, error) {
	args := &aws.ProviderArgs{
		Region:      pulumi.String(region),
		DefaultTags: &aws.ProviderDefaultTagsArgs{Tags: pulumi.ToStringMap(cfg.Tags())},
	}
	fields := reflect.ValueOf(args).Elem()
	for _, key := range cfg.Provider.Keys() {
		name, ok := config.ProviderField(key)
		field := fields.FieldByName(name)
		if !ok || !field.IsValid() {
			return nil, fmt.Errorf("aws:%s has no provider argument", key)
		}
		value := pulumi.ToOutput(cfg.Provider.Values[key])
		if cfg.Provider.Secret[key] {
			value = pulumi.ToSecret(value)
		}
		input := reflect.ValueOf(value)
		if !input.Type().AssignableTo(field.Type()) {
			return nil, fmt.Errorf("aws:%s: a %s does not fit the provider argument %s (%s)", key, input.Type(), name, field.Type())
		}
		field.Set(input)
	}
	return args, nil
}

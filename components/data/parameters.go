package data

import (
	"sort"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// publishParameters writes connection facts as SecureString parameters
// <path>/<fact>, encrypted with the environment's key: services read them
// at runtime, and their task roles may read only their environment's path.
func publishParameters(ctx *pulumi.Context, parent pulumi.Resource, name, path, description string,
	keyArn pulumi.StringInput, facts map[string]pulumi.StringInput, tags map[string]string, opts ...pulumi.ResourceOption) error {
	names := make([]string, 0, len(facts))
	for fact := range facts {
		names = append(names, fact)
	}
	sort.Strings(names)
	for _, fact := range names {
		if _, err := ssm.NewParameter(ctx, name+"-"+fact, &ssm.ParameterArgs{
			Name:        pulumi.String(path + "/" + fact),
			Description: pulumi.String(description + ": " + fact),
			Type:        pulumi.String("SecureString"),
			KeyId:       keyArn,
			Value:       facts[fact],
			Tags:        pulumi.ToStringMap(tags),
		}, append([]pulumi.ResourceOption{pulumi.Parent(parent)}, opts...)...); err != nil {
			return err
		}
	}
	return nil
}

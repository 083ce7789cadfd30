package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Types of the resources the delivery tools look for.
const (
	typeRepository      = "aws:ecr/repository:Repository"
	typeLifecyclePolicy = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
	typeStackReference  = "pulumi:pulumi:StackReference"
	typeECSService      = "aws:ecs/service:Service"
)

// planResource is a resource of the offline plan's JSON (cmd/plan --format json).
type planResource struct {
	URN          string   `json:"urn"`
	Type         string   `json:"type"`
	Parent       string   `json:"parent"`
	Dependencies []string `json:"dependencies"`
	Options      struct {
		Provider string `json:"provider"`
	} `json:"options"`
}

// repositoryTargets returns the URNs `pulumi up --target` needs to create
// the resources of the given types in an empty stack: those resources and,
// transitively, everything they depend on, their parents (components) and
// their providers, because the engine refuses to create a resource whose
// dependency, parent or provider it skips. Stack references are reads the
// program makes before registering anything, so they are targeted too.
// The offline plan runs the same program, so its URNs and dependencies are
// the ones the engine sees.
func repositoryTargets(planJSON []byte, types []string) ([]string, error) {
	var plan struct {
		Resources []planResource `json:"resources"`
	}
	if err := json.Unmarshal(planJSON, &plan); err != nil {
		return nil, fmt.Errorf("reading the plan: %w", err)
	}
	byURN := map[string]planResource{}
	for _, r := range plan.Resources {
		byURN[r.URN] = r
	}
	wanted := map[string]bool{}
	for _, t := range types {
		wanted[t] = true
	}
	seen := map[string]bool{}
	var queue []string
	add := func(urn string) {
		if urn == "" || seen[urn] {
			return
		}
		if _, ok := byURN[urn]; !ok {
			// A provider reference is <urn>::<id>; the stack itself is
			// every top-level resource's parent but not in the plan.
			if i := strings.LastIndex(urn, "::"); i > 0 {
				if _, ok := byURN[urn[:i]]; ok {
					urn = urn[:i]
				}
			}
		}
		if seen[urn] {
			return
		}
		seen[urn] = true
		queue = append(queue, urn)
	}
	found := 0
	for _, r := range plan.Resources {
		if wanted[r.Type] {
			add(r.URN)
			found++
		}
		if r.Type == typeStackReference {
			add(r.URN)
		}
	}
	if found == 0 {
		return nil, fmt.Errorf("the plan has no resource of type %s", strings.Join(types, ", "))
	}
	for len(queue) > 0 {
		urn := queue[0]
		queue = queue[1:]
		r, ok := byURN[urn]
		if !ok {
			continue
		}
		for _, d := range r.Dependencies {
			add(d)
		}
		add(r.Parent)
		add(r.Options.Provider)
	}
	out := make([]string, 0, len(seen))
	for urn := range seen {
		out = append(out, urn)
	}
	sort.Strings(out)
	return out, nil
}

// ecsService is a deployed ECS service as Pulumi last set it.
type ecsService struct {
	Cluster, Name, TaskDefinition string
}

// ecsServices reads the ECS services of a stack from `pulumi stack export`:
// the task definition each should run, to compare with the one ECS runs
// after the rollout (the circuit breaker rolls a failed deployment back to
// the previous one, which `pulumi up` does not see).
func ecsServices(stateJSON []byte) ([]ecsService, error) {
	var state struct {
		Deployment struct {
			Resources []struct {
				Type    string         `json:"type"`
				Outputs map[string]any `json:"outputs"`
			} `json:"resources"`
		} `json:"deployment"`
	}
	if err := json.Unmarshal(stateJSON, &state); err != nil {
		return nil, fmt.Errorf("reading the stack export: %w", err)
	}
	var out []ecsService
	for _, r := range state.Deployment.Resources {
		if r.Type != typeECSService {
			continue
		}
		s := ecsService{}
		s.Cluster, _ = r.Outputs["cluster"].(string)
		s.Name, _ = r.Outputs["name"].(string)
		s.TaskDefinition, _ = r.Outputs["taskDefinition"].(string)
		if s.Cluster == "" || s.Name == "" || s.TaskDefinition == "" {
			return nil, fmt.Errorf("an ECS service in the stack export lacks cluster, name or taskDefinition: %v", r.Outputs)
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

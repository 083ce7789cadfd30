package cost

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/saas-platform/saas-platform/internal/plan"
)

// The schedules that put a resource to sleep, as the plan registers them:
// EventBridge Scheduler's universal targets for RDS (and ECS, if a stack
// uses them), Application Auto Scaling's scheduled actions for ECS.
const (
	stopDBInstance   = "arn:aws:scheduler:::aws-sdk:rds:stopDBInstance"
	startDBInstance  = "arn:aws:scheduler:::aws-sdk:rds:startDBInstance"
	updateECSService = "arn:aws:scheduler:::aws-sdk:ecs:updateService"
	stopInstances    = "arn:aws:scheduler:::aws-sdk:ec2:stopInstances"
	startInstances   = "arn:aws:scheduler:::aws-sdk:ec2:startInstances"
	disableRule      = "arn:aws:scheduler:::aws-sdk:eventbridge:disableRule"
	enableRule       = "arn:aws:scheduler:::aws-sdk:eventbridge:enableRule"
	eventRuleType    = "aws:cloudwatch/eventRule:EventRule"

	schedulerType       = "aws:scheduler/schedule:Schedule"
	scheduledActionType = "aws:appautoscaling/scheduledAction:ScheduledAction"
)

// HoursPerWeek is a week's hours; awake hours a month are HoursPerMonth
// times the awake share of a week.
const HoursPerWeek = 7 * 24

// transition is one moment a resource wakes up or goes to sleep.
type transition struct {
	cron  string
	awake bool
}

// sleepKey names a scheduled resource: rds/<identifier> or
// ecs/<cluster name>/<service name>.
func rdsKey(identifier string) string { return "rds/" + identifier }
func instanceKey(urn string) string   { return "ec2/" + urn }
func ruleKey(urn string) string       { return "events/" + urn }
func ecsKey(cluster, service string) string {
	if i := strings.LastIndex(cluster, "/"); i >= 0 {
		cluster = cluster[i+1:] // an ARN: arn:aws:ecs:...:cluster/<name>
	}
	return "ecs/" + cluster + "/" + service
}

// sleeps collects, from the plan's schedules, each scheduled resource's
// transitions. A disabled schedule does not act.
func sleeps(resources []plan.Resource) (map[string][]transition, error) {
	out := map[string][]transition{}
	for _, r := range plan.OfType(resources, schedulerType) {
		if r.String("state") == "DISABLED" {
			continue
		}
		var input map[string]any
		if raw := r.String("target.input"); raw != "" {
			if err := json.Unmarshal([]byte(raw), &input); err != nil {
				return nil, fmt.Errorf("schedule %q: target input is not JSON: %w", r.Name, err)
			}
		}
		cron := r.String("scheduleExpression")
		switch r.String("target.arn") {
		case stopDBInstance, startDBInstance:
			id, _ := input["DbInstanceIdentifier"].(string)
			out[rdsKey(id)] = append(out[rdsKey(id)], transition{cron, r.String("target.arn") == startDBInstance})
		case stopInstances, startInstances:
			// The instance's id is known only once it exists: the
			// schedule names it through its input, which makes the
			// instance one of its dependencies.
			for _, dep := range r.Dependencies {
				if strings.Contains(dep, "aws:ec2/instance:Instance::") {
					out[instanceKey(dep)] = append(out[instanceKey(dep)], transition{cron, r.String("target.arn") == startInstances})
				}
			}
		case disableRule, enableRule:
			// A scheduled task's rule: named by its input, which makes
			// the rule one of the schedule's dependencies.
			for _, dep := range r.Dependencies {
				if strings.Contains(dep, eventRuleType+"::") {
					out[ruleKey(dep)] = append(out[ruleKey(dep)], transition{cron, r.String("target.arn") == enableRule})
				}
			}
		case updateECSService:
			cluster, _ := input["Cluster"].(string)
			service, _ := input["Service"].(string)
			count, _ := input["DesiredCount"].(float64)
			key := ecsKey(cluster, service)
			out[key] = append(out[key], transition{cron, count > 0})
		}
	}
	for _, r := range plan.OfType(resources, scheduledActionType) {
		if r.String("serviceNamespace") != "ecs" {
			continue
		}
		parts := strings.Split(r.String("resourceId"), "/") // service/<cluster>/<service>
		if len(parts) != 3 {
			return nil, fmt.Errorf("scheduled action %q: resource id %q is not service/<cluster>/<service>", r.Name, r.String("resourceId"))
		}
		key := ecsKey(parts[1], parts[2])
		out[key] = append(out[key], transition{r.String("schedule"), r.Number("scalableTargetAction.maxCapacity") > 0})
	}
	return out, nil
}

// awake is how much of a month a resource runs.
type awake struct {
	share float64 // of the week, 0 to 1
	hours float64 // a month
}

// scheduled reports whether the resource sleeps at all.
func (a awake) scheduled() bool { return a.share < 1 }

func (a awake) String() string {
	return fmt.Sprintf("awake %s h a week (%s of %g h a month)",
		strconv.FormatFloat(round(a.share*HoursPerWeek, 2), 'f', -1, 64),
		strconv.FormatFloat(round(a.hours, 2), 'f', -1, 64), HoursPerMonth)
}

// awakeOf is a resource's awake share: always on without transitions.
func (e *estimator) awakeOf(key string) (awake, error) {
	ts := e.sleeps[key]
	if len(ts) == 0 {
		return awake{share: 1, hours: HoursPerMonth}, nil
	}
	share, err := awakeShare(ts)
	if err != nil {
		return awake{}, err
	}
	return awake{share: share, hours: share * HoursPerMonth}, nil
}

// awakeShare plays a week minute by minute: at each minute a transition's
// cron matches, the resource wakes or sleeps. The week is played twice, so
// that the state carried over the weekend is the one the first week ended
// in. No transition ever firing leaves the resource awake.
func awakeShare(ts []transition) (float64, error) {
	type matcher struct {
		minutes, hours, days map[int]bool
		awake                bool
	}
	var ms []matcher
	for _, t := range ts {
		m, err := weeklyCron(t.cron)
		if err != nil {
			return 0, err
		}
		ms = append(ms, matcher{m[0], m[1], m[2], t.awake})
	}
	const week = HoursPerWeek * 60
	up, fired, awakeMinutes := true, false, 0
	for pass := 0; pass < 2; pass++ {
		for minute := 0; minute < week; minute++ {
			day, hour, min := minute/1440, minute/60%24, minute%60
			for _, m := range ms {
				// Cron's day of week runs 1 (SUN) to 7 (SAT).
				if m.minutes[min] && m.hours[hour] && m.days[day+1] {
					up, fired = m.awake, true
				}
			}
			if pass == 1 && up {
				awakeMinutes++
			}
		}
	}
	if !fired {
		return 1, nil
	}
	return float64(awakeMinutes) / week, nil
}

// weeklyCron expands a cron(min hour ? * days *) expression into its
// minutes, hours and days of the week. Schedules by day of month or month
// are not weekly, and the estimate refuses them rather than guess.
func weeklyCron(expr string) ([3]map[int]bool, error) {
	var out [3]map[int]bool
	body, ok := strings.CutPrefix(strings.TrimSpace(expr), "cron(")
	body, ok2 := strings.CutSuffix(body, ")")
	fields := strings.Fields(body)
	if !ok || !ok2 || len(fields) != 6 {
		return out, fmt.Errorf("sleep schedule %q: expected cron(minutes hours day-of-month month day-of-week year)", expr)
	}
	if !isAny(fields[2]) || fields[3] != "*" || fields[5] != "*" {
		return out, fmt.Errorf("sleep schedule %q: only weekly schedules (any day of month, month and year) are priced", expr)
	}
	limits := []struct {
		field  string
		lo, hi int
	}{{fields[0], 0, 59}, {fields[1], 0, 23}, {fields[4], 1, 7}}
	for i, l := range limits {
		set, err := expandField(l.field, l.lo, l.hi)
		if err != nil {
			return out, fmt.Errorf("sleep schedule %q: %w", expr, err)
		}
		out[i] = set
	}
	return out, nil
}

// expandField lists the values a cron field selects between lo and hi.
func expandField(field string, lo, hi int) (map[int]bool, error) {
	set := map[int]bool{}
	if isAny(field) {
		for v := lo; v <= hi; v++ {
			set[v] = true
		}
		return set, nil
	}
	for _, item := range strings.Split(field, ",") {
		if strings.ContainsAny(item, "LW#") {
			return nil, fmt.Errorf("%q: L, W and # are not weekly", item)
		}
		rangePart, stepPart, stepped := strings.Cut(item, "/")
		step := 1
		if stepped {
			s, err := strconv.Atoi(stepPart)
			if err != nil || s <= 0 {
				return nil, fmt.Errorf("%q: bad step", item)
			}
			step = s
		}
		from, to := lo, hi
		switch {
		case rangePart == "*":
		case strings.Contains(rangePart, "-"):
			a, b, _ := strings.Cut(rangePart, "-")
			var err error
			if from, err = value(a); err != nil {
				return nil, fmt.Errorf("%q: %w", item, err)
			}
			if to, err = value(b); err != nil {
				return nil, fmt.Errorf("%q: %w", item, err)
			}
		default:
			v, err := value(rangePart)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", item, err)
			}
			from = v
			if !stepped {
				to = v
			}
		}
		if from < lo || to > hi || from > to {
			return nil, fmt.Errorf("%q: outside %d-%d", item, lo, hi)
		}
		for v := from; v <= to; v += step {
			set[v] = true
		}
	}
	return set, nil
}

# Usage policy decisions (DESIGN §5), the same rules as the Python library generator.runtime.
#
# Data-driven: every rule, exception and model comes from data.usage_policy_data (the bundle's
# usage_policy_data/data.json, a root of its own: data and rules never share a namespace); no id
# is written here, so this file serves any policy set.
#
#   opa eval --bundle bundle.tar.gz --stdin-input 'data.usage_policy.decision' < request.json
#
# Total: every input, including none, null, a list or wrong types anywhere, gets a decision
# object; anything not covered denies (fail closed). Written for OPA v1 and checked against OPA's
# Go engine, Microsoft's rego-cpp and regorus: no `some k, v in x` inside comprehensions (rego-cpp
# refuses them) and every field read with object.get (see docs/bundle.md, engine differences).
package usage_policy

import rego.v1

policy := data.usage_policy_data

# ---------------------------------------------------------------------------------------------
# The request, checked. An invalid request is denied with reason "invalid-request".

default input_is_object := false

input_is_object if is_object(input)

req := input if input_is_object

req := {} if not input_is_object

# Every field is read with object.get and a null default, never as `req.use`: in OPA, a call
# such as `not is_string(req.use)` is undefined (not true) when req.use is missing, because the
# argument is evaluated first; regorus treats it as true. Reading with a default is the same in all.
use_raw := object.get(req, "use", null)

use := use_raw if is_string(use_raw)

use := null if not is_string(use_raw)

customer_raw := object.get(req, "customer", null)

customer := customer_raw if is_object(customer_raw)

customer := {} if not is_object(customer_raw)

customer_type := object.get(customer, "type", null)

exceptions_raw := object.get(customer, "exceptions", null)

attestations_raw := object.get(customer, "attestations", null)

model := object.get(req, "model", null)

at_raw := object.get(req, "at", null)

default bad_customer := false

bad_customer if {
	customer_raw != null
	not is_object(customer_raw)
}

default bad_type := false

bad_type if {
	customer_type != null
	not is_string(customer_type)
}

default bad_exceptions := false

bad_exceptions if not string_list_or_null(exceptions_raw)

default bad_attestations := false

bad_attestations if not string_list_or_null(attestations_raw)

default bad_model := false

bad_model if {
	model != null
	not is_string(model)
}

default bad_at := false

bad_at if {
	at_raw != null
	not valid_date(at_raw)
}

string_list_or_null(x) if x == null

string_list_or_null(x) if {
	is_array(x)
	every item in x {
		is_string(item)
	}
}

default bad_input := false

bad_input if not input_is_object

default bad_use := false

bad_use if not is_string(use_raw)

checks := [
	[bad_input, "the request must be a JSON object"],
	[bad_use, "'use' must be the id of a rule, as text"],
	[bad_customer, "'customer' must be an object"],
	[bad_type, "'customer.type' must be text"],
	[bad_exceptions, "'customer.exceptions' must be a list of exception ids"],
	[bad_attestations, "'customer.attestations' must be a list of attestation ids"],
	[bad_model, "'model' must be a model id, as text"],
	[bad_at, "'at' must be a date written YYYY-MM-DD"],
]

problems := [message | some check in checks; check[0] == true; message := check[1]]

# A real calendar date, YYYY-MM-DD (regex alone would accept 2024-13-01).
valid_date(s) if {
	is_string(s)
	regex.match(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`, s)
	y := ((digit(s, 0) * 1000) + (digit(s, 1) * 100)) + ((digit(s, 2) * 10) + digit(s, 3))
	m := (digit(s, 5) * 10) + digit(s, 6)
	d := (digit(s, 8) * 10) + digit(s, 9)
	y >= 1
	m >= 1
	m <= 12
	d >= 1
	d <= days_in_month(y, m)
}

# One decimal digit (to_number is not used on "06": engines differ on leading zeros).
digit(s, i) := to_number(substring(s, i, 1))

days_in_month(y, m) := 29 if {
	m == 2
	leap_year(y)
} else := 28 if {
	m == 2
} else := 30 if {
	m in {4, 6, 9, 11}
} else := 31

leap_year(y) if {
	y % 4 == 0
	y % 100 != 0
}

leap_year(y) if y % 400 == 0

# The day the decision is for: 'at', or today (UTC).
at := at_raw if is_string(at_raw)

at := substring(time.format([time.now_ns(), "UTC", "2006-01-02"]), 0, 10) if at_raw == null

# ---------------------------------------------------------------------------------------------
# The rule, and whether it is in force on 'at' (DESIGN §2 Time).

rule := policy.rules[use]

default rule_known := false

rule_known if policy.rules[use]

default rule_in_force := false

rule_in_force if {
	started(rule.effective)
	not_ended(rule.retired)
}

started(effective) if effective == null

started(effective) if {
	effective != null
	effective <= at
}

not_ended(until) if until == null

not_ended(until) if {
	until != null
	at < until
}

# The version a decision cites: the rule's document's date for a request about a known rule, the
# policy set's version for an invalid request or an unknown rule (docs/bundle.md).
default version := null

version := policy.documents[rule.document].effective if {
	count(problems) == 0
	rule_known
} else := policy.version

# ---------------------------------------------------------------------------------------------
# Exceptions listed by the customer, in id order, each with its first failing condition.

listed_set := {e | some e in exceptions_raw} if is_array(exceptions_raw)

listed := sort([e | some e in listed_set]) if is_array(exceptions_raw)

listed := [] if not is_array(exceptions_raw)

attested := {a | some a in attestations_raw} if is_array(attestations_raw)

attested := set() if not is_array(attestations_raw)

exception_code(e) := "exception-unknown" if {
	not policy.exceptions[e]
} else := "exception-not-permitting" if {
	not policy.exceptions[e].permits[use]
} else := "exception-not-active" if {
	policy.exceptions[e].status != "active"
} else := "exception-not-in-force" if {
	not exception_in_force(policy.exceptions[e])
} else := "customer-type" if {
	not customer_type_ok(policy.exceptions[e])
} else := "missing-attestation" if {
	count(missing_attestations(policy.exceptions[e])) > 0
} else := "unknown-model" if {
	not policy.models[model]
} else := "model-above-asl-cap" if {
	policy.models[model].asl > policy.exceptions[e].max_asl
} else := "ok"

exception_in_force(x) if {
	x.effective <= at
	not_ended(x.expires)
}

customer_type_ok(x) if {
	is_string(customer_type)
	customer_type in x.customer_types
}

missing_attestations(x) := [a | some a in x.attestations; not a in attested]

codes := [exception_code(e) | some e in listed]

winners := [i | codes[i] == "ok"]

failure(i) := reason if {
	codes[i] == "missing-attestation"
	reason := {"code": codes[i], "exception": listed[i],
	           "detail": concat(", ", missing_attestations(policy.exceptions[listed[i]]))}
} else := reason if {
	codes[i] == "model-above-asl-cap"
	reason := {"code": codes[i], "exception": listed[i],
	           "detail": sprintf("model %s is at ASL %d; the exception covers ASL %d and below",
	                             [model, policy.models[model].asl, policy.exceptions[listed[i]].max_asl])}
} else := {"code": codes[i], "exception": listed[i]}

# ---------------------------------------------------------------------------------------------
# The decision (DESIGN §5).

result(allowed, rule_id, effect, exception, purposes, obligations, reasons) := {
	"allowed": allowed,
	"use": use,
	"rule": rule_id,
	"effect": effect,
	"exception": exception,
	"purposes": purposes,
	"obligations": obligations,
	"reasons": reasons,
	"revision": policy.revision,
	"version": version,
}

decision := result(false, null, null, null, [], [], [{"code": "invalid-request", "detail": problems[0]}]) if {
	count(problems) > 0
} else := result(false, null, null, null, [], [], [{"code": "unknown-rule"}]) if {
	not rule_known
} else := result(true, use, rule.effect, null, [], [], [{"code": "not-in-force"}]) if {
	not rule_in_force
} else := result(true, use, rule.effect, null, [], rule.obligations, [{"code": "requirement"}]) if {
	rule.effect == "require"
} else := result(false, use, rule.effect, null, [], [], [{"code": "no-exception"}]) if {
	count(listed) == 0
} else := result(
	true, use, rule.effect, listed[winners[0]], policy.exceptions[listed[winners[0]]].permits[use], [],
	array.concat([failure(i) | codes[i]; i < winners[0]], [{"code": "exception", "exception": listed[winners[0]]}]),
) if {
	count(winners) > 0
} else := result(false, use, rule.effect, null, [], [], [failure(i) | codes[i]])

# Convenience for OPA's default decision path: true only when allowed.
default allow := false

allow if decision.allowed == true

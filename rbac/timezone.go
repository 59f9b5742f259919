package rbac

// Agreements' dates are days in the policy's time zone (Europe/London by
// default); the zone database is embedded so that loading a policy does
// not depend on the host having one.
import _ "time/tzdata"

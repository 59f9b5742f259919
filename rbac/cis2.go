package rbac

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/shcrkit/shcrkit"
)

// maxUserInfoBytes is the largest CIS2 userinfo RequesterFromCIS2 reads
// (256 KiB). A real one, with a dozen roles of a few dozen activity codes
// each, is a few kilobytes.
const maxUserInfoBytes = 256 << 10

// Errors of RequesterFromCIS2.
var (
	// ErrInvalidUserInfo: the userinfo is not valid JSON of the expected
	// shape, names no user, or the chosen role is malformed.
	ErrInvalidUserInfo = errors.New("rbac: invalid CIS2 userinfo")
	// ErrRoleNotSelected: no role was selected and the user has more than
	// one, so none can be chosen for them.
	ErrRoleNotSelected = errors.New("rbac: no CIS2 role selected")
	// ErrUnknownRole: the selected role is not one of the user's roles (or
	// the userinfo lists no roles at all).
	ErrUnknownRole = errors.New("rbac: unknown CIS2 role")
)

// cis2UserInfo is the part of the NHS CIS2 Authentication userinfo
// response that names the user and their national RBAC roles (scopes
// profile, nhsperson, nationalrbacaccess, associatedorgs and selectedrole).
type cis2UserInfo struct {
	Sub            flexString      `json:"sub"`
	UID            flexString      `json:"uid"`
	NHSIDUserUID   flexString      `json:"nhsid_useruid"`
	Name           string          `json:"name"`
	GivenName      string          `json:"given_name"`
	FamilyName     string          `json:"family_name"`
	SelectedRoleID flexString      `json:"selected_roleid"`
	AAL            json.RawMessage `json:"authentication_assurance_level"`
	Roles          []cis2Role      `json:"nhsid_nrbac_roles"`
	Orgs           []cis2Org       `json:"nhsid_user_orgs"`
}

type cis2Role struct {
	PersonOrgID   flexString `json:"person_orgid"`
	PersonRoleID  flexString `json:"person_roleid"`
	OrgCode       string     `json:"org_code"`
	RoleName      string     `json:"role_name"`
	RoleCode      string     `json:"role_code"`
	Activities    []string   `json:"activities"`
	ActivityCodes []string   `json:"activity_codes"`
	Workgroups    []string   `json:"workgroups"`
	AOW           []string   `json:"aow"`
}

type cis2Org struct {
	OrgCode string `json:"org_code"`
	OrgName string `json:"org_name"`
}

// flexString accepts a JSON string or number: identifiers such as
// nhsid_useruid are strings in the specification but numbers in some
// test environments.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	if bytes.Equal(b, []byte("null")) {
		*f = ""
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("want a string or a number")
	}
	*f = flexString(n.String())
	return nil
}

// RequesterFromCIS2 builds the Requester for a session from the NHS CIS2
// Authentication userinfo response: the user (nhsid_useruid, else uid,
// else sub), their name, the authentication assurance level, and the
// chosen role from nhsid_nrbac_roles (person_roleid, role_code, role_name,
// activity_codes, org_code) with the organisation's name from
// nhsid_user_orgs.
//
// selectedRoleID is the role the user selected (the ID token's
// selected_roleid, or the role picked in the application). When it is ""
// the userinfo's own selected_roleid is used, and failing that the user's
// only role; a user with several roles and none selected gets an error
// matching ErrRoleNotSelected, and a role the user does not hold one
// matching ErrUnknownRole. Malformed input gives ErrInvalidUserInfo.
//
// Activity codes are taken from activity_codes ("B0360"; a bare "0360" is
// read as "B0360"). The role code is trimmed and upper-cased; its job role
// must be R and four or five digits, matched exactly later (R08000 is not
// R8000). The Requester's System is left for the caller to fill in. Errors
// name roles and organisations, never the user.
//
// Ambiguous userinfo is refused with ErrInvalidUserInfo rather than read
// one way or another: a JSON object with the same key twice (at any
// depth), or two roles with the same person_roleid. So is userinfo over
// 256 KiB. Parsing takes time linear in the input.
func RequesterFromCIS2(userinfo []byte, selectedRoleID string) (shcrkit.Requester, error) {
	info, err := decodeUserInfo(userinfo)
	if err != nil {
		return shcrkit.Requester{}, err
	}
	userID := firstNonEmpty(string(info.NHSIDUserUID), string(info.UID), string(info.Sub))
	if userID == "" {
		return shcrkit.Requester{}, fmt.Errorf("%w: no user ID (nhsid_useruid, uid or sub)", ErrInvalidUserInfo)
	}
	aal, err := parseAAL(info.AAL)
	if err != nil {
		return shcrkit.Requester{}, err
	}
	sel := strings.TrimSpace(selectedRoleID)
	if sel == "" {
		sel = strings.TrimSpace(string(info.SelectedRoleID))
	}
	role, err := chooseRole(info.Roles, sel)
	if err != nil {
		return shcrkit.Requester{}, err
	}
	req, err := roleRequester(role, userID, aal)
	if err != nil {
		return shcrkit.Requester{}, err
	}
	for _, o := range info.Orgs {
		if strings.EqualFold(strings.TrimSpace(o.OrgCode), string(req.Organisation)) {
			req.OrganisationName = o.OrgName
			break
		}
	}
	req.Name = strings.TrimSpace(info.Name)
	if req.Name == "" {
		req.Name = strings.TrimSpace(info.GivenName + " " + info.FamilyName)
	}
	return req, nil
}

// decodeUserInfo reads the userinfo, refusing an oversized or ambiguous
// one and saying where malformed JSON goes wrong.
func decodeUserInfo(userinfo []byte) (*cis2UserInfo, error) {
	if len(userinfo) > maxUserInfoBytes {
		return nil, fmt.Errorf("%w: userinfo of %d bytes is over the limit of %d", ErrInvalidUserInfo, len(userinfo), maxUserInfoBytes)
	}
	if err := checkDuplicateKeys(userinfo); err != nil {
		return nil, err
	}
	var info cis2UserInfo
	err := json.Unmarshal(userinfo, &info)
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return &info, nil
	case errors.As(err, &se):
		return nil, fmt.Errorf("%w: malformed JSON at offset %d", ErrInvalidUserInfo, se.Offset)
	case errors.As(err, &te) && te.Field == "":
		return nil, fmt.Errorf("%w: the userinfo must be a JSON object, not %s", ErrInvalidUserInfo, te.Value)
	case errors.As(err, &te):
		return nil, fmt.Errorf("%w: field %s has the wrong type", ErrInvalidUserInfo, te.Field)
	}
	return nil, fmt.Errorf("%w: %v", ErrInvalidUserInfo, err)
}

// chooseRole picks the role with person_roleid sel, or the only role
// when sel is "".
func chooseRole(roles []cis2Role, sel string) (*cis2Role, error) {
	if len(roles) == 0 {
		return nil, fmt.Errorf("%w: the userinfo lists no national RBAC roles (nhsid_nrbac_roles)", ErrUnknownRole)
	}
	roleIDs := make(map[string]bool, len(roles))
	for i := range roles {
		id := strings.TrimSpace(string(roles[i].PersonRoleID))
		if id != "" && roleIDs[id] {
			return nil, fmt.Errorf("%w: two roles have person_roleid %s", ErrInvalidUserInfo, strconv.Quote(clipID(id)))
		}
		roleIDs[id] = true
	}
	switch {
	case sel != "":
		for i := range roles {
			if strings.TrimSpace(string(roles[i].PersonRoleID)) == sel {
				return &roles[i], nil
			}
		}
		return nil, fmt.Errorf("%w: role %s is not among the user's %d roles", ErrUnknownRole, strconv.Quote(sel), len(roles))
	case len(roles) == 1:
		return &roles[0], nil
	}
	return nil, fmt.Errorf("%w: the user has %d roles and none is selected", ErrRoleNotSelected, len(roles))
}

// roleRequester is the requester acting in role: its role profile, role
// code, organisation and activity codes, checked.
func roleRequester(role *cis2Role, userID string, aal int) (shcrkit.Requester, error) {
	roleID := strings.TrimSpace(string(role.PersonRoleID))
	if roleID == "" {
		return shcrkit.Requester{}, fmt.Errorf("%w: the role has no person_roleid", ErrInvalidUserInfo)
	}
	code := strings.ToUpper(strings.TrimSpace(role.RoleCode))
	req := shcrkit.Requester{UserID: userID, RoleProfileID: roleID, RoleCode: code, AssuranceLevel: aal}
	if _, ok := jobRoleOf(&req); !ok || code == "" || req.JobRole() == "" {
		return shcrkit.Requester{}, fmt.Errorf("%w: role %s has role_code %s, not Snnnn:Gnnnn:Rnnnn with a job role of R and four or five digits",
			ErrInvalidUserInfo, clipID(roleID), strconv.Quote(clipID(strings.TrimSpace(role.RoleCode))))
	}
	org, err := shcrkit.ParseODSCode(role.OrgCode)
	if err != nil {
		return shcrkit.Requester{}, fmt.Errorf("%w: role %s has org_code %s, not an ODS code", ErrInvalidUserInfo, roleID, strconv.Quote(role.OrgCode))
	}
	req.Organisation = org
	req.RoleName = roleDisplay(role.RoleName)
	seen := make(map[string]bool, len(role.ActivityCodes))
	for _, a := range role.ActivityCodes {
		a = strings.ToUpper(strings.TrimSpace(a))
		if allDigits(a) && len(a) == 4 {
			a = "B" + a
		}
		if !validActivity(a) {
			return shcrkit.Requester{}, fmt.Errorf("%w: role %s has activity code %s, not Bnnnn", ErrInvalidUserInfo, roleID, strconv.Quote(a))
		}
		if !seen[a] {
			seen[a] = true
			req.Activities = append(req.Activities, a)
		}
	}
	return req, nil
}

// checkDuplicateKeys refuses JSON in which an object holds the same key
// twice, at any depth: encoding/json would silently keep the last, and
// another reader might keep the first. It reads each token once.
func checkDuplicateKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	type frame struct {
		keys      map[string]bool
		expectKey bool
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			// Unmarshal reports the syntax error with its offset.
			return nil
		}
		top := len(stack) - 1
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{':
				if top >= 0 && !stack[top].expectKey && stack[top].keys != nil {
					stack[top].expectKey = true
				}
				stack = append(stack, frame{keys: make(map[string]bool), expectKey: true})
			case '[':
				if top >= 0 && stack[top].keys != nil {
					stack[top].expectKey = true
				}
				stack = append(stack, frame{})
			case '}', ']':
				stack = stack[:top]
			}
			continue
		}
		if top < 0 || stack[top].keys == nil {
			continue // a value in an array, or the document itself
		}
		f := &stack[top]
		if f.expectKey {
			k, _ := tok.(string)
			if f.keys[k] {
				return fmt.Errorf("%w: key %s appears twice in one object", ErrInvalidUserInfo, strconv.Quote(clipID(k)))
			}
			f.keys[k] = true
			f.expectKey = false
		} else {
			f.expectKey = true
		}
	}
}

// clipID keeps an identifier quoted in an error short.
func clipID(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// parseAAL reads authentication_assurance_level, a string ("3") in the
// ID token and userinfo, tolerating a number or "AAL3".
func parseAAL(raw json.RawMessage) (int, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	var s flexString
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, fmt.Errorf("%w: authentication_assurance_level is not a level", ErrInvalidUserInfo)
	}
	v := strings.TrimSpace(string(s))
	if len(v) > 3 && strings.EqualFold(v[:3], "aal") {
		v = v[3:]
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 4 {
		return 0, fmt.Errorf("%w: authentication_assurance_level %s is not 0 to 4", ErrInvalidUserInfo, strconv.Quote(string(s)))
	}
	return n, nil
}

// roleDisplay turns a CIS2 role_name such as
// `"Clinical":"Clinical Provision":"Nurse Access Role"` into its last,
// most specific part, "Nurse Access Role".
func roleDisplay(name string) string {
	name = strings.TrimSpace(name)
	if i := strings.LastIndex(name, `":"`); i >= 0 {
		name = name[i+3:]
	}
	return strings.Trim(name, `"`)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}

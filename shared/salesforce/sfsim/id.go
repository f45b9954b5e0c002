package sfsim

import (
	"strings"
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// standardObject is a standard sObject type the simulator knows from the start, with its real
// key prefix. Types with fields listed have them declared from the start, as in a real org, so a
// query on an empty table succeeds instead of failing with INVALID_FIELD. The types stay
// schemaless otherwise: Insert and API writes may add fields, as for any undeclared type.
type standardObject struct {
	name   string
	prefix string
	fields []string
}

// standardObjects are the standard objects Omnibridge touches, by lower-case name; other types
// get generated prefixes, as custom objects do in a real org. Reference fields follow
// Salesforce's naming (UsersId → relationship Users), which is how relationship paths resolve.
var standardObjects = map[string]standardObject{
	"user": {"User", "005", []string{"Username", "Name", "FirstName", "LastName", "Email", "Alias",
		"IsActive", "ProfileId", "UserRoleId", "ManagerId", "Department", "Title", "UserType",
		"FederationIdentifier", "TimeZoneSidKey"}},
	"case": {"Case", "500", []string{"CaseNumber", "Subject", "Description", "Status", "Priority", "Origin",
		"Type", "Reason", "OwnerId", "ContactId", "AccountId", "ParentId", "RecordTypeId", "IsClosed", "ClosedDate",
		"IsEscalated", "SuppliedName", "SuppliedEmail", "SuppliedPhone", "ContactPhone", "ContactMobile",
		"ContactEmail", "CreatedById", "LastModifiedById"}},
	"casecomment": {"CaseComment", "00a", []string{"ParentId", "CommentBody", "IsPublished", "IsDeleted",
		"CreatedById", "LastModifiedById"}},
	"emailmessage": {"EmailMessage", "02s", []string{"ParentId", "RelatedToId", "ActivityId", "Incoming",
		"Status", "Subject", "TextBody", "HtmlBody", "FromAddress", "FromName", "ToAddress", "CcAddress",
		"BccAddress", "MessageDate", "MessageIdentifier", "ThreadIdentifier", "ReplyToEmailMessageId",
		"IsExternallyVisible", "CreatedById"}},
	"contact": {"Contact", "003", []string{"FirstName", "LastName", "Name", "Salutation", "Title", "AccountId",
		"OwnerId", "Email", "Phone", "MobilePhone", "HomePhone", "OtherPhone", "AssistantPhone", "Fax",
		"Department", "LeadSource", "MailingCity", "MailingCountry", "Description", "CreatedById", "LastModifiedById"}},
	"lead": {"Lead", "00Q", []string{"FirstName", "LastName", "Name", "Company", "Title", "Status", "OwnerId",
		"Email", "Phone", "MobilePhone", "Fax", "LeadSource", "IsConverted", "ConvertedContactId",
		"ConvertedAccountId", "Description", "CreatedById", "LastModifiedById"}},
	"account": {"Account", "001", []string{"Name", "Phone", "Fax", "Type", "OwnerId", "ParentId", "Industry",
		"Website", "Description"}},
	"group": {"Group", "00G", []string{"Name", "DeveloperName", "Type", "Email", "OwnerId", "RelatedId",
		"DoesSendEmailToMembers", "DoesIncludeBosses"}},
	"queuesobject": {"QueueSobject", "03g", []string{"QueueId", "SobjectType"}},
	"task": {"Task", "00T", []string{"Subject", "Status", "Priority", "OwnerId", "WhoId", "WhatId", "AccountId",
		"ActivityDate", "Description", "IsClosed", "TaskSubtype", "Type", "CallType", "CallDurationInSeconds",
		"CallObject", "CallDisposition", "CompletedDateTime", "CreatedById"}},
	"profile": {"Profile", "00e", []string{"Name", "UserType", "UserLicenseId", "Description"}},
	"permissionset": {"PermissionSet", "0PS", []string{"Name", "Label", "Description", "IsOwnedByProfile",
		"ProfileId", "NamespacePrefix", "PermissionSetGroupId"}},
	"permissionsetassignment": {"PermissionSetAssignment", "0Pa", []string{"AssigneeId", "PermissionSetId",
		"PermissionSetGroupId", "IsActive", "ExpirationDate"}},
	"servicepresencestatus": {"ServicePresenceStatus", "0N5", []string{"DeveloperName", "MasterLabel", "Language"}},
	// 0Hn is UserServicePresence's prefix; 0Bz belongs to AgentWork.
	"userservicepresence": {"UserServicePresence", "0Hn", []string{"Name", "UserId", "OwnerId",
		"ServicePresenceStatusId", "IsCurrentState", "IsAway", "StatusStartDate", "StatusEndDate",
		"StatusDuration", "ConfiguredCapacity", "AtCapacityDuration", "AverageCapacity", "IdleDuration"}},
	"authsession": {"AuthSession", "0Ak", []string{"UsersId", "SessionType", "LoginType", "UserType",
		"NumSecondsValid", "SessionSecurityLevel", "SourceIp", "ParentId", "LoginHistoryId", "LoginGeoId",
		"IsCurrent", "LogoutUrl"}},
}

// checksumAlphabet maps the 5-bit uppercase mask of each 5-character chunk to one suffix character.
const checksumAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

// CaseSafeID returns the 18-character form of a 15-character Salesforce id: the id followed by
// three characters that encode which of its letters are upper case, so that the id survives
// case-insensitive systems. An 18-character id is returned unchanged; anything else as is.
func CaseSafeID(id string) string {
	if len(id) != 15 {
		return id
	}
	var suffix [3]byte
	for chunk := range 3 {
		mask := 0
		for j := range 5 {
			if c := id[chunk*5+j]; c >= 'A' && c <= 'Z' {
				mask |= 1 << j
			}
		}
		suffix[chunk] = checksumAlphabet[mask]
	}
	return id + string(suffix[:])
}

// normalizeID returns the case-sensitive 15-character form of a 15- or 18-character id. An 18-char
// id whose case was lost is repaired from its suffix, as Salesforce does.
func normalizeID(id string) (string, bool) {
	if !isIDShape(id) {
		return "", false
	}
	if len(id) == 15 || suffixMatches(id) { // the common cases need no copy
		return id[:15], true
	}
	b := []byte(id[:15])
	for chunk := range 3 {
		mask := strings.IndexByte(checksumAlphabet, upper(id[15+chunk]))
		if mask < 0 {
			return "", false
		}
		for j := range 5 {
			c := b[chunk*5+j]
			if mask&(1<<j) != 0 {
				b[chunk*5+j] = upper(c)
			} else if c >= 'A' && c <= 'Z' {
				b[chunk*5+j] = c + ('a' - 'A')
			}
		}
	}
	return string(b), true
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

// suffixMatches reports whether an 18-character id's suffix encodes its first 15 characters'
// case exactly, as CaseSafeID would write it.
func suffixMatches(id string) bool {
	for chunk := range 3 {
		mask := 0
		for j := range 5 {
			if c := id[chunk*5+j]; c >= 'A' && c <= 'Z' {
				mask |= 1 << j
			}
		}
		if id[15+chunk] != checksumAlphabet[mask] {
			return false
		}
	}
	return true
}

// isBase62 marks the bytes an id may contain.
var isBase62 = func() (t [256]bool) {
	for i := range len(base62) {
		t[base62[i]] = true
	}
	return t
}()

func isIDShape(s string) bool {
	if len(s) != 15 && len(s) != 18 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isBase62[s[i]] {
			return false
		}
	}
	return true
}

// encode62 writes n in base 62, zero-padded to width.
func encode62(n uint64, width int) string {
	b := make([]byte, width)
	for i := width - 1; i >= 0; i-- {
		b[i] = base62[n%62]
		n /= 62
	}
	return string(b)
}

// newID returns the next 15-character id with the given key prefix that no record holds and
// taken (explicit ids about to be inserted) does not list. "xx" stands for the instance, as in
// Salesforce's documentation examples.
func (o *Org) newID(prefix string, taken map[string]bool) string {
	for {
		o.nextID++
		id := prefix + "xx" + encode62(o.nextID, 10)
		if o.byID[id] == nil && !taken[id] {
			return id
		}
	}
}

// prefixFor returns the key prefix of an sObject type, generating one for unknown types:
// custom objects get a0x-style prefixes and platform events e0x-style ones.
func (o *Org) prefixFor(name string) string {
	if std, ok := standardObjects[strings.ToLower(name)]; ok {
		return std.prefix
	}
	o.generated++
	lead := "a"
	if strings.HasSuffix(strings.ToLower(name), "__e") {
		lead = "e"
	}
	return lead + encode62(uint64(o.generated), 2)
}

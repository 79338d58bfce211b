/// Which sales records (contacts, companies and everything hanging off them) a caller
/// may see. The one row-level rule of the product; `Permissions` decides methods, this
/// decides rows.
///
/// Source: issue 3 ("Visibility"): a `user` sees records owned by anyone in their
/// department plus unowned ones; an `admin` everything; a `tech_admin` no sales records;
/// a `robot` only what its lookup and ingestion methods return (never through the
/// read methods that apply this rule).
///
/// Every read path applies it: in SQL through `Visibility.predicate(owner:)` in
/// KontorStore, in Swift through `allows(ownerID:ownerDepartment:)`. A record the caller
/// may not see is answered as `not_found`, and is left out of totals, searches, merges
/// and company cards.
public enum Visibility: Sendable, Equatable, Hashable {
    /// Every record (admins).
    case everything
    /// Records owned by a member of the department, and unowned records (sales users).
    case department(Department)
    /// Unowned records only (a sales user without a department: should not exist).
    case unownedOnly
    /// No record (tech admins, robots).
    case nothing

    /// The visibility of a principal's role and department.
    public init(_ principal: Principal) {
        switch principal.role {
        case .admin: self = .everything
        case .user: self = principal.department.map(Visibility.department) ?? .unownedOnly
        case .techAdmin, .robot: self = .nothing
        }
    }

    /// Whether a record with this owner is visible. `ownerDepartment` is the owner's
    /// current department (nil for an owner outside sales departments, e.g. an admin).
    public func allows(ownerID: Int64?, ownerDepartment: Department?) -> Bool {
        switch self {
        case .everything: return true
        case .nothing: return false
        case .unownedOnly: return ownerID == nil
        case .department(let d): return ownerID == nil || ownerDepartment == d
        }
    }
}

/// Who may own a sales record, and who may give it to whom.
public enum Ownership {
    /// Checks that `principal` may make `owner` the owner of a record.
    ///
    /// * The owner is an active `user` or `admin` (robots and tech admins own nothing).
    /// * An `admin` assigns anyone; a `user` assigns only members of their own department
    ///   (so a record never leaves their sight by their hand).
    ///
    /// - Throws: `invalid_params` (field `field`) for an owner who cannot own records,
    ///   `forbidden` for an owner outside the caller's department.
    public static func checkAssignable(_ owner: User, by principal: Principal, field: String = "owner_id") throws {
        try checkCanOwn(owner, field: field)
        switch principal.role {
        case .admin: return
        case .user:
            guard let mine = principal.department, owner.department == mine else {
                throw KontorError.forbidden("you may assign records only to members of your department")
            }
        case .techAdmin, .robot:
            throw KontorError.forbidden("your role may not assign sales records")
        }
    }

    /// Checks that `owner` can own sales records at all: an active `user` or `admin`.
    /// - Throws: `invalid_params` (field `field`).
    public static func checkCanOwn(_ owner: User, field: String = "owner_id") throws {
        guard owner.active else { throw KontorError.invalidParams(field, "user \(owner.id) is deactivated and cannot own records") }
        guard owner.role == .user || owner.role == .admin else {
            throw KontorError.invalidParams(field, "a \(owner.role.rawValue) cannot own sales records")
        }
    }

    /// Checks the owner an imported row names (`contact.import`): as `checkAssignable`,
    /// except that a robot assigns anyone who can own records, like an admin. The file a
    /// robot brings says who owns what (a CRM export's "Owner" column); the robot's
    /// token was given by a tech admin, and a robot never owns records itself.
    public static func checkImportOwner(_ owner: User, by principal: Principal, field: String = "owner_login") throws {
        if principal.role == .robot { return try checkCanOwn(owner, field: field) }
        try checkAssignable(owner, by: principal, field: field)
    }

    /// The owner a new record gets when the caller names none: a sales user owns what
    /// they create; admins and robots create unowned records.
    public static func defaultOwner(for principal: Principal) -> Int64? {
        principal.role == .user ? principal.userID : nil
    }
}

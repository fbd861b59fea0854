/// Who sends a request.
public enum Principal: Sendable, Equatable, CustomStringConvertible {
    /// No credentials: public catalog reads only.
    case anonymous
    /// An upstream system or operator, by the name of its API key: every route.
    case system(String)
    /// An end user with a verified token, whose subject is a customer id: that customer's data only.
    case customer(String)

    /// Written into each command's `souk_actor` header, so that roles can check ownership.
    public var actor: String {
        switch self {
        case .anonymous: "anonymous"
        case .system(let name): "system:\(name)"
        case .customer(let id): "customer:\(id)"
        }
    }

    public var description: String { actor }

    public var isSystem: Bool {
        if case .system = self { return true }
        return false
    }

    /// Whether this principal may see or change `customerId`'s data.
    public func mayAct(for customerId: String) -> Bool {
        switch self {
        case .system: true
        case .customer(let id): id == customerId
        case .anonymous: false
        }
    }
}

import Commerce
import Contracts
import RoleSupport

/// A registration's claim on its e-mail address, on the address's partition.
public struct EmailClaim: Codable, Sendable, Equatable {
    static let type = "souk.customer.EmailClaim.v1"
    var email: String
    var customerId: String
    var commandId: String
}

/// The address owner's answer, back on the customer's partition.
public struct EmailDecision: Codable, Sendable, Equatable {
    static let type = "souk.customer.EmailDecision.v1"
    var email: String
    var customerId: String
    var commandId: String
    var owner: String
    var granted: Bool { owner == customerId }
}

public enum CustomerInput: Sendable, Equatable {
    case register(RegisterCustomer)
    case updateProfile(UpdateCustomerProfile)
    case updateAddress(UpdateShippingAddress)
    case updateBilling(UpdateBillingInfo)
    case claim(EmailClaim)
    case decision(EmailDecision)
    /// The order saga asks whether a token is one of the customer's saved methods, with where to answer.
    case paymentMethodCheck(PaymentMethodCheck, replyTo: ReplyAddress?)
    /// A command whose fields carry a card number: refused without looking further.
    case carriesCardNumber(commandType: String, customerId: String, field: String)
}

public struct CustomerProfile: Codable, Sendable, Equatable {
    public var customerId: String
    public var email: String
    public var name: String
    public var phone: String?
}

/// Payment-method display data; never a card number.
public struct BillingInfo: Codable, Sendable, Equatable {
    public var paymentMethodToken: String
    public var brand: String
    public var last4: String
    public var expiryMonth: Int
    public var expiryYear: Int
}

/// State of `customer:<id>` (profile, addresses, billing) or `email:<address>` (its owner).
public struct CustomerState: Codable, Sendable, Equatable {
    public var profile: CustomerProfile?
    public var addresses = AddressBook()
    public var billing: BillingInfo?
    var pending: PendingRegistration?
    public var emailOwner: String?

    struct PendingRegistration: Codable, Sendable, Equatable {
        var commandId: String
        var command: RegisterCustomer
    }
}

import Foundation

public struct ProcessPayment: TopicMessage {
    public static let context = BoundedContext.payment
    public static let name = "ProcessPayment"
    public static let kind = MessageKind.command
    public static let summary = "Authorizes a payment for an order with a payment token (the saga sends it; so may an upstream system)."

    public var paymentId: String
    public var orderId: String
    public var customerId: String
    public var amount: Money
    public var paymentToken: String
    /// `automatic` (the default) captures at once; `manual` only authorizes and waits for CapturePayment.
    public var capture: String?
    public init(paymentId: String, orderId: String, customerId: String, amount: Money, paymentToken: String, capture: String? = nil) {
        self.paymentId = paymentId
        self.orderId = orderId
        self.customerId = customerId
        self.amount = amount
        self.paymentToken = paymentToken
        self.capture = capture
    }

    public var key: String { paymentId }

    public static let schema = Schema.object([
        .init("paymentId", .id()), .init("orderId", .id()), .init("customerId", .id()), .init("amount", .money),
        .init("paymentToken", .text(max: 200, min: 1)), .init("capture", .oneOf(["automatic", "manual"]), required: false),
    ])
    public static let example = ProcessPayment(paymentId: "pay-order-1", orderId: "order-1", customerId: "cust-1", amount: Money(238_000, "VND"), paymentToken: "tok_visa")
}

public struct CapturePayment: TopicMessage {
    public static let context = BoundedContext.payment
    public static let name = "CapturePayment"
    public static let kind = MessageKind.command
    public static let summary = "Captures an authorized payment, in full unless an amount is given."

    public var paymentId: String
    public var amount: Money?
    public init(paymentId: String, amount: Money? = nil) {
        self.paymentId = paymentId
        self.amount = amount
    }

    public var key: String { paymentId }

    public static let schema = Schema.object([.init("paymentId", .id()), .init("amount", .money, required: false)])
    public static let example = CapturePayment(paymentId: "pay-order-1", amount: nil)
}

public struct RefundPayment: TopicMessage {
    public static let context = BoundedContext.payment
    public static let name = "RefundPayment"
    public static let kind = MessageKind.command
    public static let summary = "Refunds part or all of a captured payment; never more than was captured."

    public var paymentId: String
    public var refundId: String
    /// Omitted: whatever of the capture is not refunded yet (a cancel after a goodwill refund pays
    /// back the rest, not the whole total again).
    public var amount: Money?
    public var reason: String?
    public init(paymentId: String, refundId: String, amount: Money?, reason: String? = nil) {
        self.paymentId = paymentId
        self.refundId = refundId
        self.amount = amount
        self.reason = reason
    }

    public var key: String { paymentId }

    public static let schema = Schema.object([
        .init("paymentId", .id()), .init("refundId", .id()), .init("amount", .money, required: false, description: "omitted: all that is left to refund"),
        .init("reason", .text(max: 1000), required: false),
    ])
    public static let example = RefundPayment(paymentId: "pay-order-1", refundId: "refund-1", amount: Money(119_000, "VND"), reason: "one tin arrived dented")
}

public struct PaymentProcessed: TopicMessage {
    public static let context = BoundedContext.payment
    public static let name = "PaymentProcessed"
    public static let kind = MessageKind.event
    public static let summary = "A payment was captured by the provider (or, with manual capture, authorized: `status` says which)."

    public var paymentId: String
    public var orderId: String
    public var amount: Money
    public var provider: String
    public var providerReference: String
    public var processedAt: Date
    /// `captured` (also when absent) or `authorized`.
    public var status: String?
    public init(
        paymentId: String,
        orderId: String,
        amount: Money,
        provider: String,
        providerReference: String,
        processedAt: Date,
        status: String? = nil
    ) {
        self.paymentId = paymentId
        self.orderId = orderId
        self.amount = amount
        self.provider = provider
        self.providerReference = providerReference
        self.processedAt = processedAt
        self.status = status
    }

    public var isCaptured: Bool { status != "authorized" }

    public var key: String { paymentId }

    public static let schema = Schema.object([
        .init("paymentId", .id()), .init("orderId", .id()), .init("amount", .money), .init("provider", .text(max: 40, min: 1)),
        .init("providerReference", .text(max: 200, min: 1)), .init("processedAt", .timestamp),
        .init("status", .oneOf(["authorized", "captured"]), required: false),
    ])
    public static let example = PaymentProcessed(
        paymentId: "pay-order-1", orderId: "order-1", amount: Money(238_000, "VND"), provider: "sandbox", providerReference: "sbx_ch_1",
        processedAt: Date(timeIntervalSince1970: 1_795_001_100)
    )
}

public struct PaymentFailed: TopicMessage {
    public static let context = BoundedContext.payment
    public static let name = "PaymentFailed"
    public static let kind = MessageKind.event
    public static let summary = "A payment was declined or could not be completed."

    public var paymentId: String
    public var orderId: String
    public var reason: String
    public var failedAt: Date
    public init(paymentId: String, orderId: String, reason: String, failedAt: Date) {
        self.paymentId = paymentId
        self.orderId = orderId
        self.reason = reason
        self.failedAt = failedAt
    }

    public var key: String { paymentId }

    public static let schema = Schema.object([
        .init("paymentId", .id()), .init("orderId", .id()), .init("reason", .text(max: 1000, min: 1)), .init("failedAt", .timestamp),
    ])
    public static let example = PaymentFailed(paymentId: "pay-order-1", orderId: "order-1", reason: "card declined", failedAt: Date(timeIntervalSince1970: 1_795_001_100))
}

public struct RefundInitiated: TopicMessage {
    public static let context = BoundedContext.payment
    public static let name = "RefundInitiated"
    public static let kind = MessageKind.event
    public static let summary = "A refund was accepted and sent to the provider."

    public var paymentId: String
    public var refundId: String
    public var orderId: String
    public var amount: Money
    public var initiatedAt: Date
    public init(paymentId: String, refundId: String, orderId: String, amount: Money, initiatedAt: Date) {
        self.paymentId = paymentId
        self.refundId = refundId
        self.orderId = orderId
        self.amount = amount
        self.initiatedAt = initiatedAt
    }

    public var key: String { paymentId }

    public static let schema = Schema.object([
        .init("paymentId", .id()), .init("refundId", .id()), .init("orderId", .id()), .init("amount", .money), .init("initiatedAt", .timestamp),
    ])
    public static let example = RefundInitiated(
        paymentId: "pay-order-1", refundId: "refund-1", orderId: "order-1", amount: Money(119_000, "VND"), initiatedAt: Date(timeIntervalSince1970: 1_795_100_000)
    )
}

public struct RefundCompleted: TopicMessage {
    public static let context = BoundedContext.payment
    public static let name = "RefundCompleted"
    public static let kind = MessageKind.event
    public static let summary = "The provider confirmed a refund."

    public var paymentId: String
    public var refundId: String
    public var orderId: String
    public var amount: Money
    public var providerReference: String
    public var completedAt: Date
    public init(
        paymentId: String,
        refundId: String,
        orderId: String,
        amount: Money,
        providerReference: String,
        completedAt: Date
    ) {
        self.paymentId = paymentId
        self.refundId = refundId
        self.orderId = orderId
        self.amount = amount
        self.providerReference = providerReference
        self.completedAt = completedAt
    }

    public var key: String { paymentId }

    public static let schema = Schema.object([
        .init("paymentId", .id()), .init("refundId", .id()), .init("orderId", .id()), .init("amount", .money),
        .init("providerReference", .text(max: 200, min: 1)), .init("completedAt", .timestamp),
    ])
    public static let example = RefundCompleted(
        paymentId: "pay-order-1", refundId: "refund-1", orderId: "order-1", amount: Money(119_000, "VND"), providerReference: "sbx_re_1",
        completedAt: Date(timeIntervalSince1970: 1_795_100_010)
    )
}

public struct GetPaymentStatus: Contract {
    public static let context = BoundedContext.payment
    public static let name = "GetPaymentStatus"
    public static let kind = MessageKind.query
    public static let summary = "A payment's status, captured and refunded amounts (GET /api/payments/:id/status)."
    public var paymentId: String
    public init(paymentId: String) {
        self.paymentId = paymentId
    }

    public static let schema = Schema.object([.init("paymentId", .id())])
    public static let example = GetPaymentStatus(paymentId: "pay-order-1")
}

public struct GetPaymentHistory: Contract {
    public static let context = BoundedContext.payment
    public static let name = "GetPaymentHistory"
    public static let kind = MessageKind.query
    public static let summary = "A customer's payments and refunds, newest first (GET /api/payments/customer/:customerId)."
    public var customerId: String
    public var cursor: String?
    public var limit: Int?
    public init(customerId: String, cursor: String? = nil, limit: Int? = nil) {
        self.customerId = customerId
        self.cursor = cursor
        self.limit = limit
    }

    public static let schema = Schema.object([
        .init("customerId", .id()), .init("cursor", .text(max: 500), required: false), .init("limit", .integer(minimum: 1, maximum: 100), required: false),
    ])
    public static let example = GetPaymentHistory(customerId: "cust-1", cursor: nil, limit: 20)
}

public struct GetRefundStatus: Contract {
    public static let context = BoundedContext.payment
    public static let name = "GetRefundStatus"
    public static let kind = MessageKind.query
    public static let summary = "One refund's status."
    public var paymentId: String
    public var refundId: String
    public init(paymentId: String, refundId: String) {
        self.paymentId = paymentId
        self.refundId = refundId
    }

    public static let schema = Schema.object([.init("paymentId", .id()), .init("refundId", .id())])
    public static let example = GetRefundStatus(paymentId: "pay-order-1", refundId: "refund-1")
}

import Contracts
import Foundation
import Testing

@Suite struct ContractCatalogTests {
    @Test(arguments: TopicCatalog.messages.map { MessageCase($0) })
    func exampleIsValidAgainstItsSchemaAndRoundTrips(_ message: MessageCase) throws {
        let encoded = try message.type.encodeExample()
        #expect(message.type.schema.validate(json: encoded) == [], "\(message.type.typeName)")
        #expect(try message.type.roundTrips(), "\(message.type.typeName)")
    }

    @Test func typeNamesAreUniqueAndSayContextNameAndVersion() {
        let names = TopicCatalog.messages.map { $0.typeName }
        #expect(Set(names).count == names.count)
        for message in TopicCatalog.messages where message != CommandRejected.self {
            #expect(message.typeName == "souk.\(message.context.rawValue).\(message.name).v1")
        }
    }

    @Test func everyCommandAndEventTravelsOnExactlyOneTopicOfItsContext() {
        for message in TopicCatalog.messages where message.kind != .query && message != CommandRejected.self {
            // Its home is one public topic; an internal topic may carry copies (the saga's replies).
            let carriers = TopicCatalog.topics.filter { $0.kind != .internal && $0.messages.contains(message.typeName) }
            #expect(carriers.count == 1, "\(message.typeName) is on \(carriers.map(\.name))")
            #expect(carriers.first?.context == message.context.rawValue)
            #expect(carriers.first?.kind == (message.kind == .command ? .commands : .events))
        }
        for topic in TopicCatalog.topics where topic.kind == .events {
            #expect(topic.messages.contains(CommandRejected.typeName), "\(topic.name) carries rejections")
        }
    }

    @Test func everyArchitectureItemExists() {
        // The commands, events and queries of shared/spec/architecture.md, by name.
        let required = """
            CreateProduct UpdateProduct DeleteProduct UpdateInventory SetProductPrice ProductCreated ProductUpdated ProductDeleted \
            InventoryUpdated PriceChanged GetProduct ListProducts SearchProducts GetInventoryLevel CreateOrder UpdateOrderStatus \
            CancelOrder ProcessPayment OrderCreated OrderStatusUpdated OrderCancelled PaymentProcessed OrderFulfilled GetOrder \
            ListOrders GetOrderHistory GetOrderStatus RegisterCustomer UpdateCustomerProfile UpdateShippingAddress UpdateBillingInfo \
            CustomerRegistered ProfileUpdated AddressUpdated BillingInfoUpdated GetCustomerProfile GetCustomerOrders \
            GetCustomerAddresses CreateCart AddItemToCart RemoveItemFromCart UpdateQuantity ApplyCoupon CartCreated ItemAdded \
            ItemRemoved QuantityUpdated CouponApplied GetCart GetCartTotal GetAppliedDiscounts RefundPayment CapturePayment \
            PaymentFailed RefundInitiated RefundCompleted GetPaymentStatus GetPaymentHistory GetRefundStatus CreateShipment \
            UpdateShipmentStatus AssignCarrier ShipmentCreated ShipmentStatusUpdated CarrierAssigned DeliveryCompleted \
            GetShipmentStatus TrackShipment GetDeliveryEstimate
            """.split(separator: " ").map(String.init)
        let names = Set(TopicCatalog.messages.map { $0.name })
        #expect(required.filter { !names.contains($0) } == [])
    }

    @Test func topicNamesSayContextKindAndVersion() {
        for topic in TopicCatalog.topics where topic.kind != .internal {
            #expect(topic.name == "souk.\(topic.context).\(topic.kind.rawValue).v\(topic.version)")
            #expect(topic.partitions >= 1)
        }
        #expect(Set(TopicCatalog.topics.map(\.name)).count == TopicCatalog.topics.count)
    }

    /// The Swift catalog and the checked-in `topics/` folder agree, file for file.
    @Test func checkedInTopicsFolderMatchesTheCatalog() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("topics")
        let expected = try ContractExport.files()
        var onDisk: [String: String] = [:]
        for folder in ["", "schemas"] {
            let directory = root.appendingPathComponent(folder)
            for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where !name.hasPrefix(".") && name != "schemas" {
                onDisk[folder.isEmpty ? name : "\(folder)/\(name)"] = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            }
        }
        #expect(Set(onDisk.keys) == Set(expected.keys), "run `souk topics export` after changing the catalog")
        for (path, contents) in expected where onDisk[path] != contents {
            Issue.record("topics/\(path) differs from the catalog: run `souk topics export`")
        }
    }
}

/// A message type as a test argument.
struct MessageCase: CustomTestStringConvertible, Sendable {
    let type: any Contract.Type
    init(_ type: any Contract.Type) { self.type = type }
    var testDescription: String { type.typeName }
}

extension Contract {
    static func encodeExample() throws -> [UInt8] { try example.encoded() }
    static func roundTrips() throws -> Bool { try decode(example.encoded()) == example }
}

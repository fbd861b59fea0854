import Contracts
import Foundation
import JSONCodec
import RoleSupport
import Streams

/// The catalog: products, their descriptions and prices.
///
/// SKUs are unique across products, but commands are keyed by product id, so CreateProduct claims its
/// SKU on the SKU's partition (a repartition topic) and completes when the decision comes back. A
/// deleted product keeps its SKU, so an old SKU never points at a new product.
public struct CatalogRole: ContextRole {
    public var commandsTopic: String { topics.commands }
    public var eventsTopic: String { topics.events }

    public let name: String
    public let topics: Topics

    public struct Topics: Sendable {
        public var commands = "souk.product.commands.v1"
        public var events = "souk.product.events.v1"
        public var skuClaims = "souk.catalog.sku-claims.v1"
        public var skuDecisions = "souk.catalog.sku-decisions.v1"
        public init() {}
    }

    public init(name: String = "catalog", topics: Topics = Topics()) {
        self.name = name
        self.topics = topics
    }

    public var inputTopics: [String] { [topics.commands, topics.skuClaims, topics.skuDecisions] }

    public func stateKey(for record: InboundRecord) -> String {
        record.topic == topics.skuClaims ? "sku:\(record.stateKey)" : "product:\(record.stateKey)"
    }

    public func decode(_ record: InboundRecord) throws -> CatalogInput {
        guard let type = record.type else { throw PoisonMessage("missing ce_type header") }
        let bytes = record.value ?? []
        switch type {
        case CreateProduct.typeName: return .create(try ContractCodec.decode(CreateProduct.self, bytes))
        case UpdateProduct.typeName: return .update(try ContractCodec.decode(UpdateProduct.self, bytes))
        case DeleteProduct.typeName: return .delete(try ContractCodec.decode(DeleteProduct.self, bytes))
        case SetProductPrice.typeName: return .setPrice(try ContractCodec.decode(SetProductPrice.self, bytes))
        case SkuClaim.type: return .claim(try SoukJSON.decode(SkuClaim.self, from: bytes))
        case SkuDecision.type: return .decision(try SoukJSON.decode(SkuDecision.self, from: bytes))
        default: throw PoisonMessage("the catalog does not handle \(type)")
        }
    }

    public func handle(_ input: CatalogInput, state: CatalogState?, context: HandlerContext) throws -> HandlerResult<CatalogState> {
        var state = state ?? CatalogState()
        let commandId = context.record.id
        switch input {
        case .create(let command):
            if state.product != nil || state.pending != nil {
                return reject(command, commandId, "product \(command.productId) already exists", field: "/productId")
            }
            if command.price.amountMinor < 0 { return reject(command, commandId, "price must not be negative", field: "/price/amountMinor") }
            state.pending = .init(commandId: commandId, command: command)
            let claim = SkuClaim(sku: command.sku, productId: command.productId, commandId: commandId)
            return HandlerResult(state: .set(state), outputs: [try internalMessage(topics.skuClaims, key: command.sku, SkuClaim.type, claim)])

        case .claim(let claim):
            let owner = state.skuOwner ?? claim.productId
            state.skuOwner = owner
            let decision = SkuDecision(sku: claim.sku, productId: claim.productId, commandId: claim.commandId, owner: owner)
            return HandlerResult(state: .set(state), outputs: [try internalMessage(topics.skuDecisions, key: claim.productId, SkuDecision.type, decision)])

        case .decision(let decision):
            guard let pending = state.pending, pending.commandId == decision.commandId else { return HandlerResult() }
            state.pending = nil
            guard decision.granted else {
                return HandlerResult(
                    state: .set(state),
                    outputs: [try rejection(pending.command, pending.commandId, "duplicate SKU \(decision.sku): product \(decision.owner) has it", field: "/sku")]
                )
            }
            let command = pending.command
            state.product = ProductRecord(
                productId: command.productId, sku: command.sku, name: command.name, description: command.description,
                category: command.category, price: command.price, weightGrams: command.weightGrams, attributes: command.attributes ?? [:],
                deleted: false
            )
            let event = ProductCreated(
                productId: command.productId, sku: command.sku, name: command.name, description: command.description,
                category: command.category, price: command.price, weightGrams: command.weightGrams, attributes: command.attributes ?? [:],
                createdAt: context.now
            )
            return HandlerResult(state: .set(state), outputs: [try emit(event)])

        case .update(let command):
            if state.pending != nil { return stillPending(command, commandId) }
            guard var product = state.product, !product.deleted else { return reject(command, commandId, "unknown product \(command.productId)", field: "/productId") }
            product.name = command.name ?? product.name
            product.description = command.description ?? product.description
            product.category = command.category ?? product.category
            product.weightGrams = command.weightGrams ?? product.weightGrams
            product.attributes = command.attributes ?? product.attributes
            state.product = product
            let event = ProductUpdated(
                productId: product.productId, name: product.name, description: product.description, category: product.category,
                weightGrams: product.weightGrams, attributes: product.attributes, updatedAt: context.now
            )
            return HandlerResult(state: .set(state), outputs: [try emit(event)])

        case .delete(let command):
            if state.pending != nil { return stillPending(command, commandId) }
            guard var product = state.product, !product.deleted else { return reject(command, commandId, "unknown product \(command.productId)", field: "/productId") }
            product.deleted = true
            state.product = product
            return HandlerResult(
                state: .set(state),
                outputs: [try emit(ProductDeleted(productId: product.productId, sku: product.sku, deletedAt: context.now))]
            )

        case .setPrice(let command):
            if state.pending != nil { return stillPending(command, commandId) }
            guard var product = state.product, !product.deleted else { return reject(command, commandId, "unknown product \(command.productId)", field: "/productId") }
            if command.price.amountMinor < 0 { return reject(command, commandId, "price must not be negative", field: "/price/amountMinor") }
            let old = product.price
            product.price = command.price
            state.product = product
            let event = PriceChanged(productId: product.productId, sku: product.sku, oldPrice: old, newPrice: command.price, changedAt: context.now)
            return HandlerResult(state: .set(state), outputs: [try emit(event)])
        }
    }

    // MARK: - Outputs

    private var outputs: ContextOutputs { ContextOutputs(eventsTopic: topics.events) }

    private func emit<Event: TopicMessage>(_ event: Event) throws -> OutboundMessage { try outputs.event(event) }

    private func rejection<Command: TopicMessage>(_ command: Command, _ commandId: String, _ reason: String, field: String?) throws -> OutboundMessage {
        try outputs.rejection(commandId: commandId, commandType: Command.typeName, aggregateId: command.key, reason: reason, field: field)
    }

    private func reject<Command: TopicMessage>(_ command: Command, _ commandId: String, _ reason: String, field: String?) -> HandlerResult<CatalogState> {
        outputs.rejected(commandId: commandId, commandType: Command.typeName, aggregateId: command.key, reason: reason, field: field)
    }

    /// A command that arrived while the product's creation waits for its SKU: the producer retries it
    /// once it has seen the creation's outcome.
    private func stillPending<Command: TopicMessage>(_ command: Command, _ commandId: String) -> HandlerResult<CatalogState> {
        reject(command, commandId, "product \(command.key) is still being created; retry after its outcome", field: "/productId")
    }

    private func internalMessage<Message: Encodable>(_ topic: String, key: String, _ type: String, _ message: Message) throws -> OutboundMessage {
        try outputs.internalMessage(topic, key: key, type: type, message)
    }
}

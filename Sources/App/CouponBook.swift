import Commerce
import Contracts
import Foundation

/// The coupons carts accept. No command defines coupons, so they are configuration: a JSON array of
/// `Coupon` in the file `SOUK_COUPONS_FILE` names, else a small built-in set for local use.
public enum CouponBook {
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [Coupon] {
        guard let path = environment["SOUK_COUPONS_FILE"] else { return builtIn }
        do {
            return try JSONDecoder().decode([Coupon].self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw SoukConfigurationError("SOUK_COUPONS_FILE \(path): \(error)")
        }
    }

    public static let builtIn = [
        Coupon(code: "WELCOME10", discount: .percentage(basisPoints: 1_000), minimumSubtotal: Money(100_000, "VND"), usageLimit: 10_000),
        Coupon(code: "TEA50K", discount: .fixed(Money(50_000, "VND")), minimumSubtotal: Money(300_000, "VND"), usageLimit: 1_000),
    ]
}

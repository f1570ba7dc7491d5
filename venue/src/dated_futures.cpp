#include "synthusd/venue/dated_futures.hpp"

#include <stdexcept>

namespace synthusd::venue {

using hedging::int128;

std::vector<hedging::PricePoint> future_price_path(std::span<const hedging::PricePoint> index, Timestamp expiry,
                                                   Ratio annual_basis) {
  if (index.empty() || expiry <= index.front().time) {
    throw std::invalid_argument("dated future: the expiry must come after the price path's start");
  }
  std::vector<hedging::PricePoint> path;
  Price delivery = index.front().price;
  for (const hedging::PricePoint& point : index) {
    if (point.time > expiry) {
      break;
    }
    delivery = point.price;
    if (point.time == expiry) {
      break;
    }
    // premium = price * basis * (T - t) / year, in the price's 1e-8 units.
    const int128 premium =
        hedging::divide(static_cast<int128>(point.price.raw) * annual_basis.raw * (expiry - point.time).nanoseconds,
                        static_cast<int128>(Ratio::kScale) * hedging::kYear.nanoseconds, hedging::Rounding::half_even);
    const Price price{point.price.raw + static_cast<std::int64_t>(premium)};
    if (!price.is_valid()) {
      throw std::invalid_argument("dated future: the basis makes a price non-positive");
    }
    path.push_back({point.time, price});
  }
  path.push_back({expiry, delivery});
  return path;
}

std::vector<DatedFuture> make_dated_futures(const EngineConfig& perpetual, std::span<const FutureSettings> futures,
                                            std::span<const hedging::PricePoint> index) {
  std::vector<DatedFuture> books;
  books.reserve(futures.size());
  for (std::size_t i = 0; i < futures.size(); ++i) {
    const FutureSettings& settings = futures[i];
    EngineConfig config = perpetual;
    config.symbol = settings.name;
    config.first_identifier = (i + 1) * kBookIdentifierSpan + 1;
    const Timestamp expiry = index.front().time + settings.expires_after;
    books.push_back(DatedFuture{
        settings.name, expiry,
        Engine(config, future_price_path(index, expiry, settings.annual_basis), FundingSchedule(Ratio{0}))});
  }
  return books;
}

} // namespace synthusd::venue

#pragma once
// The backtest's venues: one venue::Engine book per configured instrument
// (the venue's perpetual, inverse or linear, and any inverse dated futures,
// each priced off the index with a constant annualised premium that decays
// to zero at expiry: venue::future_price_path), and the collateral they
// share.
//
// A real venue margins a currency's instruments together; the model keeps
// one account per book. So collateral moves between a venue's books as it
// would within a cross-margined account, at once and without fee:
//   - to the book an order goes to, from the venue's other books, which keep
//     a quarter of the value of their position or of what their open orders
//     could make it (4x, the kernel's highest leverage bound by default);
//   - from books left flat, with no open order, to the venue's home book
//     (the one holding the largest position);
//   - deposits land in the home book, withdrawals take from flat books
//     first.
// With one book per venue none of this moves anything.

#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "synthusd/hedging/config.hpp"
#include "synthusd/hedging/price_path.hpp"
#include "synthusd/venue/market_data.hpp"
#include "synthusd/venue/matching_engine.hpp"

namespace synthusd::engine {

// The one account the backtest trades in every book.
inline constexpr std::string_view kBacktestAccount = "synthusd";

struct Book {
  hedging::VenueId venue = hedging::kNoVenue;
  const hedging::InstrumentSpec* spec = nullptr;
  std::unique_ptr<venue::Engine> engine;
  hedging::Sats funding_seen{};
  bool settled = false; // a future past its expiry: delivered, its collateral moved home
  // The position and prices at the last point, for the basis carry.
  hedging::Contracts held{};
  hedging::Price held_mark{};
  hedging::Price held_index{};

  [[nodiscard]] bool is_future() const noexcept { return spec->kind == hedging::InstrumentKind::inverse_future; }
};

// What the books hold at a point, valued at the index.
struct BookMeasures {
  hedging::Sats equity{};             // every book's, in sats
  hedging::UsdCents hedge{};          // short exposure (long counts against), USD at each book's mark
  hedging::Ratio worst_leverage{};    // the highest venue's gross exposure / its books' equity
  hedging::Ratio nearest_liquidation; // the nearest short's price move to liquidation (valid: any_short)
  bool any_short = false;
};

// Receives the events a book produced (fills, cancels, position updates).
using BookEvents = std::function<void(std::size_t book, std::vector<venue::Event>& events)>;

class VenueBooks {
public:
  // Throws std::invalid_argument naming the instrument when a venue has no
  // instrument or more than one perpetual, or a future expires before the
  // path starts.
  VenueBooks(const hedging::KernelConfig& config, const std::vector<hedging::PricePoint>& path,
             const venue::FundingSchedule& funding, hedging::Ratio venue_initial_margin,
             hedging::Ratio future_annual_basis);

  [[nodiscard]] std::vector<Book>& books() noexcept { return books_; }
  [[nodiscard]] const std::vector<Book>& books() const noexcept { return books_; }
  [[nodiscard]] const std::vector<hedging::VenueId>& venues() const noexcept { return venues_; }
  // Throws std::logic_error for an instrument no book trades.
  [[nodiscard]] std::size_t book_of(hedging::InstrumentId instrument) const;
  // Sum of the equity of the venue's books, in sats.
  [[nodiscard]] hedging::Sats venue_equity(hedging::VenueId venue);
  [[nodiscard]] std::size_t home_book(hedging::VenueId venue) const;
  [[nodiscard]] BookMeasures measure(hedging::Price index);

  void gather_collateral(std::size_t book, const BookEvents& events);
  void sweep_idle_books(const BookEvents& events);
  void deposit(hedging::VenueId venue, hedging::Sats amount, const BookEvents& events);
  // What the venue's books release, up to `amount`.
  [[nodiscard]] hedging::Sats withdraw(hedging::VenueId venue, hedging::Sats amount, const BookEvents& events);

  // What the dated futures' positions earned since remember_positions from
  // their premium over the index changing (positive: earned), in sats: for
  // each, its P&L from the price it would have if its premium had not
  // changed (last mark * index / last index) to its mark. A premium that
  // holds still earns nothing; the index move is the hedge's, not carry.
  [[nodiscard]] hedging::Sats basis_carry(hedging::Price index) const;
  void remember_positions(hedging::Price index);

private:
  [[nodiscard]] bool idle(const Book& book);
  hedging::Sats move(std::size_t from, std::size_t to, hedging::Sats amount, const BookEvents& events);

  std::vector<Book> books_;
  std::vector<hedging::VenueId> venues_;
};

} // namespace synthusd::engine

#include "backtest_books.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "liquidation_distance.hpp"
#include "synthusd/venue/dated_futures.hpp"

namespace synthusd::engine {

using hedging::Contracts;
using hedging::InstrumentSpec;
using hedging::Rounding;
using hedging::Sats;

namespace {

constexpr std::string_view kAccount = kBacktestAccount;

venue::EngineConfig book_config(const InstrumentSpec& spec, hedging::Ratio venue_initial_margin, std::size_t ordinal) {
  venue::EngineConfig config;
  config.symbol = std::string(spec.symbol.view());
  if (hedging::is_inverse(spec.kind)) {
    config.contract_value = spec.contract_value;
  } else {
    config.kind = venue::ContractKind::linear;
    config.contract_size = spec.contract_size;
  }
  config.tick_size = spec.tick_size;
  config.maker_fee = spec.maker_fee;
  config.taker_fee = spec.taker_fee;
  config.initial_margin = venue_initial_margin;
  config.liquidation_margin = spec.maintenance_margin;
  config.initial_collateral = Sats{0};
  config.funding_interval = spec.funding_interval;
  // OrderIDs and ExecIDs never repeat across a run's books.
  config.first_identifier = ordinal * venue::kBookIdentifierSpan + 1;
  return config;
}

} // namespace

VenueBooks::VenueBooks(const hedging::KernelConfig& config, const std::vector<hedging::PricePoint>& path,
                       const venue::FundingSchedule& funding, hedging::Ratio venue_initial_margin,
                       hedging::Ratio future_annual_basis) {
  for (const hedging::VenueConfig& venue : config.venues) {
    venues_.push_back(venue.id);
    bool has_perpetual = false;
    bool has_instrument = false;
    for (const InstrumentSpec& spec : config.instruments) {
      if (spec.venue != venue.id) {
        continue;
      }
      const std::string name =
          "backtest: instrument '" + std::string(spec.symbol.view()) + "' of venue '" + venue.name + "'";
      if (hedging::is_perpetual(spec.kind)) {
        if (has_perpetual) {
          throw std::invalid_argument(name + ": the venue model trades one perpetual per venue");
        }
        has_perpetual = true;
      }
      has_instrument = true;
      const venue::EngineConfig engine_config = book_config(spec, venue_initial_margin, books_.size());
      Book book;
      book.venue = venue.id;
      book.spec = &spec;
      if (spec.kind == hedging::InstrumentKind::inverse_future) {
        if (spec.expiry <= path.front().time) {
          throw std::invalid_argument(name + ": expires before the price path starts");
        }
        book.engine = std::make_unique<venue::Engine>(engine_config,
                                                      venue::future_price_path(path, spec.expiry, future_annual_basis),
                                                      venue::FundingSchedule(hedging::Ratio{0}));
      } else {
        book.engine = std::make_unique<venue::Engine>(engine_config, path, funding);
      }
      books_.push_back(std::move(book));
    }
    if (!has_instrument) {
      throw std::invalid_argument("backtest: venue '" + venue.name + "' has no instrument");
    }
  }
}

std::size_t VenueBooks::book_of(hedging::InstrumentId instrument) const {
  for (std::size_t b = 0; b < books_.size(); ++b) {
    if (books_[b].spec->id == instrument) {
      return b;
    }
  }
  throw std::logic_error("backtest: the kernel named an unknown instrument");
}

Sats VenueBooks::venue_equity(hedging::VenueId venue) {
  Sats total{};
  for (Book& book : books_) {
    if (book.venue == venue) {
      total += book.engine->equity(kAccount);
    }
  }
  return total;
}

std::size_t VenueBooks::home_book(hedging::VenueId venue) const {
  std::size_t home = books_.size();
  std::size_t last = books_.size();
  for (std::size_t b = 0; b < books_.size(); ++b) {
    const Book& book = books_[b];
    if (book.venue != venue) {
      continue;
    }
    last = b;
    if (book.settled) {
      continue;
    }
    const venue::AccountState& account = book.engine->account(kAccount);
    if (home == books_.size() || account.position.abs() > books_[home].engine->account(kAccount).position.abs()) {
      home = b;
    }
  }
  if (last == books_.size()) {
    throw std::logic_error("backtest: a venue without books");
  }
  return home == books_.size() ? last : home; // every future delivered: the last one keeps it
}

BookMeasures VenueBooks::measure(hedging::Price index) {
  BookMeasures out;
  hedging::int128 hedge = 0;
  for (const hedging::VenueId venue : venues_) {
    hedging::int128 venue_exposure = 0;
    Sats venue_equity{};
    bool venue_position = false;
    for (Book& book : books_) {
      if (book.venue != venue) {
        continue;
      }
      const venue::AccountState& account = book.engine->account(kAccount);
      const Sats equity = book.engine->equity(kAccount);
      out.equity += equity;
      venue_equity += equity;
      const hedging::Price mark = book.engine->quote().mark;
      const hedging::int128 exposure = book.engine->terms().notional_cents_at(account.position.abs(), mark);
      hedge += account.position.value < 0 ? exposure : -exposure;
      venue_exposure += exposure;
      venue_position = venue_position || !account.position.is_zero();
      if (account.position.value < 0) {
        const hedging::Ratio distance =
            short_liquidation_distance(account, book.engine->terms(), book.spec->maintenance_margin, mark);
        out.nearest_liquidation = out.any_short ? std::min(out.nearest_liquidation, distance) : distance;
        out.any_short = true;
      }
    }
    if (!venue_position) {
      continue;
    }
    // A venue's leverage: its gross exposure over all its books' equity.
    const hedging::UsdCents collateral = hedging::sats_to_cents(venue_equity, index, Rounding::down);
    if (collateral.value > 0) {
      out.worst_leverage =
          std::max(out.worst_leverage, hedging::Ratio{static_cast<std::int64_t>(hedging::divide(
                                           venue_exposure * hedging::Ratio::kScale, collateral.value, Rounding::up))});
    } else {
      out.worst_leverage = hedging::Ratio{999 * hedging::Ratio::kScale};
    }
  }
  out.hedge = hedging::UsdCents{static_cast<std::int64_t>(hedge)};
  return out;
}

bool VenueBooks::idle(const Book& book) {
  return book.settled || (book.engine->account(kAccount).position.is_zero() && book.engine->open_order_count() == 0);
}

Sats VenueBooks::move(std::size_t from, std::size_t to, Sats amount, const BookEvents& events) {
  if (amount.value <= 0 || from == to) {
    return Sats{};
  }
  std::vector<venue::Event> out;
  const Sats taken = books_[from].engine->withdraw(kAccount, amount, out);
  events(from, out);
  if (taken.value > 0) {
    out.clear();
    books_[to].engine->deposit(kAccount, taken, out);
    events(to, out);
  }
  return taken;
}

void VenueBooks::gather_collateral(std::size_t book, const BookEvents& events) {
  const hedging::VenueId venue = books_[book].venue;
  for (std::size_t b = 0; b < books_.size(); ++b) {
    Book& other = books_[b];
    if (b == book || other.venue != venue) {
      continue;
    }
    const Sats equity = other.engine->equity(kAccount);
    Sats keep{};
    if (!idle(other)) {
      // a quarter of what it holds or could hold once its open orders fill
      const Contracts exposure = other.engine->open_exposure(kAccount);
      const Sats value = other.engine->terms().value_sats(exposure, other.engine->quote().mark, Rounding::up);
      keep = Sats{static_cast<std::int64_t>(hedging::divide(value.value, 4, Rounding::up))};
    }
    (void)move(b, book, equity - keep, events);
  }
}

void VenueBooks::sweep_idle_books(const BookEvents& events) {
  for (const hedging::VenueId venue : venues_) {
    const std::size_t home = home_book(venue);
    for (std::size_t b = 0; b < books_.size(); ++b) {
      if (b != home && books_[b].venue == venue && idle(books_[b])) {
        (void)move(b, home, books_[b].engine->account(kAccount).balance, events);
      }
    }
  }
}

void VenueBooks::deposit(hedging::VenueId venue, Sats amount, const BookEvents& events) {
  const std::size_t home = home_book(venue);
  std::vector<venue::Event> out;
  books_[home].engine->deposit(kAccount, amount, out);
  events(home, out);
}

Sats VenueBooks::withdraw(hedging::VenueId venue, Sats amount, const BookEvents& events) {
  Sats taken{};
  // Flat books first: what they hold backs no position.
  for (const bool flat_pass : {true, false}) {
    for (std::size_t b = 0; b < books_.size() && taken < amount; ++b) {
      Book& book = books_[b];
      if (book.venue != venue || idle(book) != flat_pass) {
        continue;
      }
      std::vector<venue::Event> out;
      taken += book.engine->withdraw(kAccount, amount - taken, out);
      events(b, out);
    }
  }
  return taken;
}

Sats VenueBooks::basis_carry(hedging::Price index) const {
  Sats carry{};
  for (const Book& book : books_) {
    if (!book.is_future() || book.held.is_zero() || !book.held_mark.is_valid() || !book.held_index.is_valid()) {
      continue;
    }
    // Where the future would be had its premium over the index not changed:
    // last mark * index / last index. From there to its mark is the premium's
    // own move; the rest of its P&L is the index move, which hedges.
    const hedging::Price unchanged{static_cast<std::int64_t>(hedging::divide(
        static_cast<hedging::int128>(book.held_mark.raw) * index.raw, book.held_index.raw, Rounding::half_even))};
    if (unchanged.is_valid()) {
      carry += book.engine->terms().pnl(book.held, unchanged, book.engine->quote().mark);
    }
  }
  return carry;
}

void VenueBooks::remember_positions(hedging::Price index) {
  for (Book& book : books_) {
    book.held = book.settled ? Contracts{} : book.engine->account(kAccount).position;
    book.held_mark = book.engine->quote().mark;
    book.held_index = index;
  }
}

} // namespace synthusd::engine

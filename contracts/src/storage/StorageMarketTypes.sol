// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title StorageMarketTypes
/// @notice The storage market's deals and slots, its events and its errors, in one place.
interface StorageMarketTypes {
    struct DealTerms {
        uint16 replicas; // slots, one provider each
        uint32 epochs; // how many epochs the deal pays for
        uint32 epochBlocks; // blocks per epoch, at least the market's proof window
        uint128 pricePerEpoch; // paid per replica per proven epoch
        uint128 collateral; // stake a provider locks while it holds a slot
        uint16 slashBps; // part of the collateral a missed epoch costs, in basis points
    }

    struct Deal {
        address funder; // pays the escrow, receives slashes and the refund (a DAO, or anyone)
        bytes32 version; // sha256 digest of the version (dag-cbor commit) CID
        bytes32 tree; // sha256 digest of its UnixFS tree root (dag-pb), read from the commit
        uint64 startBlock;
        DealTerms terms;
        uint256 escrow; // still held for this deal
        uint16 held; // slots with a provider
        bool refunded;
    }

    struct Slot {
        address provider; // zero while open
        uint32 nextEpoch; // the first epoch it still owes a proof for
    }

    event DealCreated(uint256 indexed dealId, address indexed funder, bytes32 version, bytes32 tree, uint256 escrow, DealTerms terms);
    event SlotTaken(uint256 indexed dealId, uint256 indexed slot, address indexed provider, uint32 firstEpoch);
    event Proven(uint256 indexed dealId, uint256 indexed slot, address indexed provider, uint32 epoch, uint256 offset, uint256 paid);
    event Missed(uint256 indexed dealId, uint256 indexed slot, address indexed provider, uint32 epoch, uint256 slashed);
    event SlotReleased(uint256 indexed dealId, uint256 indexed slot, address indexed provider);
    /// @notice No slot of the deal holds the data any more.
    event DataUnheld(uint256 indexed dealId, uint32 epoch);
    event Refunded(uint256 indexed dealId, address indexed funder, uint256 amount);

    error InvalidTerms(DealTerms terms);
    error InvalidWindow(uint32 finalityDelay, uint32 proofWindow);
    error UnknownDeal(uint256 dealId);
    error NoSuchSlot(uint256 dealId, uint256 slot, uint16 replicas);
    error SlotOccupied(uint256 dealId, uint256 slot, address provider);
    error AlreadyInDeal(uint256 dealId, address provider);
    error NotProvider(uint256 dealId, uint256 slot, address caller);
    error DealOver(uint256 dealId, uint32 epochs);
    error WrongEpoch(uint256 dealId, uint256 slot, uint32 owed, uint32 given);
    error OutsideWindow(uint64 opens, uint64 closes, uint256 now_);
    error NotMissed(uint256 dealId, uint256 slot, uint32 epoch, uint64 closes);
    error StillOwed(uint256 dealId, uint256 slot, uint32 nextEpoch, uint32 epochs);
    error DealRunning(uint256 dealId, uint64 endsAt);
    error AlreadyRefunded(uint256 dealId);
}

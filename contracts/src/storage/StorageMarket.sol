// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {StakeRegistry} from "../StakeRegistry.sol";
import {StorageProofs} from "./StorageProofs.sol";
import {StorageMarketTypes} from "./StorageMarketTypes.sol";

/// @title StorageMarket
/// @notice Deals that pay staked providers for keeping a dataset version: a funder (a DAO
///         proposal, or anyone) escrows `pricePerEpoch × epochs × replicas` up front; each
///         replica slot's provider proves every epoch that it holds the leaf a future block
///         hash draws from the version's tree (StorageProofs), and is paid for it; an epoch
///         without a proof slashes part of its locked stake to the funder and opens the slot
///         for another provider. See docs/storage.md.
/// @dev Balances: `token.balanceOf(this) == Σ deal.escrow`. Stakes stay in the registry.
contract StorageMarket is StorageMarketTypes {
    using SafeERC20 for IERC20;

    IERC20 public immutable token;
    StakeRegistry public immutable registry;
    /// @notice Blocks after the challenge block before a proof counts (reorg safety).
    uint32 public immutable finalityDelay;
    /// @notice Blocks from the challenge block to the end of its epoch (at most 256, the
    ///         reach of `blockhash`).
    uint32 public immutable proofWindow;

    uint256 public dealCount;
    mapping(uint256 => Deal) internal deals;
    mapping(uint256 => mapping(uint256 => Slot)) internal slots;
    mapping(uint256 => mapping(address => bool)) public inDeal;

    /// @param token_ The token deals are paid in (the staking token).
    /// @param registry_ Where providers' stakes are locked and slashed; this market must be a locker and a slasher.
    constructor(IERC20 token_, StakeRegistry registry_, uint32 finalityDelay_, uint32 proofWindow_) {
        if (finalityDelay_ == 0 || finalityDelay_ >= proofWindow_ || proofWindow_ > 256) {
            revert InvalidWindow(finalityDelay_, proofWindow_);
        }
        token = token_;
        registry = registry_;
        finalityDelay = finalityDelay_;
        proofWindow = proofWindow_;
    }

    // ---------------------------------------------------------------- deals

    /// @notice Funds a deal for the dataset version whose dag-cbor commit block is `commit`.
    /// @dev Pulls the whole escrow from the caller (approve first). Emits {DealCreated}.
    ///      Requirements: `commit` is a dataset version (StorageProofs.NotAVersion); replicas,
    ///      epochs and price are not zero, `epochBlocks >= proofWindow`, `slashBps <= 10000`.
    function createDeal(bytes calldata commit, DealTerms calldata terms) external returns (uint256 dealId) {
        if (
            terms.replicas == 0 || terms.epochs == 0 || terms.pricePerEpoch == 0 || terms.epochBlocks < proofWindow
                || terms.slashBps > 10_000
        ) revert InvalidTerms(terms);
        (bytes32 version, bytes32 tree) = StorageProofs.treeOf(commit);
        uint256 escrow = uint256(terms.pricePerEpoch) * terms.epochs * terms.replicas;
        dealId = ++dealCount;
        deals[dealId] = Deal({
            funder: msg.sender,
            version: version,
            tree: tree,
            startBlock: uint64(block.number),
            terms: terms,
            escrow: escrow,
            held: 0,
            refunded: false
        });
        token.safeTransferFrom(msg.sender, address(this), escrow);
        emit DealCreated(dealId, msg.sender, version, tree, escrow, terms);
    }

    /// @notice Takes an open slot: locks `collateral` of the caller's free stake; the caller
    ///         owes proofs from the next epoch on.
    /// @dev Emits {SlotTaken}. Requirements: the slot exists and is open, the caller holds no
    ///      other slot of the deal, at least one epoch is left, enough free stake.
    function join(uint256 dealId, uint256 slot) external {
        Deal storage deal = dealOf(dealId);
        if (slot >= deal.terms.replicas) revert NoSuchSlot(dealId, slot, deal.terms.replicas);
        Slot storage s = slots[dealId][slot];
        if (s.provider != address(0)) revert SlotOccupied(dealId, slot, s.provider);
        if (inDeal[dealId][msg.sender]) revert AlreadyInDeal(dealId, msg.sender);
        uint32 first = currentEpoch(deal) + 1;
        if (first >= deal.terms.epochs) revert DealOver(dealId, deal.terms.epochs);
        registry.lock(msg.sender, deal.terms.collateral);
        s.provider = msg.sender;
        s.nextEpoch = first;
        inDeal[dealId][msg.sender] = true;
        deal.held += 1;
        emit SlotTaken(dealId, slot, msg.sender, first);
    }

    /// @notice Proves the slot's owed epoch: `nodes` and `leaf` are the path the epoch's
    ///         challenge draws (StorageProofs.verify). Pays `pricePerEpoch` to the provider.
    /// @dev Emits {Proven}. Requirements: caller holds the slot, `epoch` is the one it owes and
    ///      part of the deal, the block is inside the epoch's proof window, the proof checks.
    function prove(uint256 dealId, uint256 slot, uint32 epoch, bytes[] calldata nodes, bytes calldata leaf) external {
        Deal storage deal = dealOf(dealId);
        Slot storage s = slots[dealId][slot];
        if (s.provider != msg.sender) revert NotProvider(dealId, slot, msg.sender);
        if (epoch != s.nextEpoch) revert WrongEpoch(dealId, slot, s.nextEpoch, epoch);
        // Past the last epoch nothing is owed: a proof there would take the funder's refund.
        if (epoch >= deal.terms.epochs) revert DealOver(dealId, deal.terms.epochs);
        (uint64 opens, uint64 closes) = window(deal, epoch);
        if (block.number < opens || block.number >= closes) revert OutsideWindow(opens, closes, block.number);
        uint256 offset = StorageProofs.verify(deal.tree, seedOf(deal, dealId, slot, epoch), nodes, leaf);
        s.nextEpoch = epoch + 1;
        uint256 price = deal.terms.pricePerEpoch;
        pay(deal, msg.sender, price);
        emit Proven(dealId, slot, msg.sender, epoch, offset, price);
    }

    /// @notice Reports that a slot's provider let an epoch pass without a proof: a part of its
    ///         collateral goes to the funder, the rest is unlocked, and the slot opens.
    /// @dev Anyone may call. Emits {Missed}, and {DataUnheld} when no slot holds the data.
    function reportMissed(uint256 dealId, uint256 slot) external {
        Deal storage deal = dealOf(dealId);
        Slot storage s = slots[dealId][slot];
        uint32 epoch = s.nextEpoch;
        (, uint64 closes) = window(deal, epoch);
        if (s.provider == address(0) || epoch >= deal.terms.epochs || block.number < closes) {
            revert NotMissed(dealId, slot, epoch, closes);
        }
        address provider = s.provider;
        uint256 slashed = uint256(deal.terms.collateral) * deal.terms.slashBps / 10_000;
        vacate(deal, dealId, slot, s);
        if (slashed > 0) registry.slash(provider, slashed, address(0), deal.funder);
        registry.unlock(provider, deal.terms.collateral - slashed);
        emit Missed(dealId, slot, provider, epoch, slashed);
        if (deal.held == 0) emit DataUnheld(dealId, epoch);
    }

    /// @notice Unlocks a provider's collateral once it has proven every epoch it owed.
    /// @dev Emits {SlotReleased}. Requirements: caller holds the slot and owes nothing more.
    function release(uint256 dealId, uint256 slot) external {
        Deal storage deal = dealOf(dealId);
        Slot storage s = slots[dealId][slot];
        if (s.provider != msg.sender) revert NotProvider(dealId, slot, msg.sender);
        if (s.nextEpoch < deal.terms.epochs) revert StillOwed(dealId, slot, s.nextEpoch, deal.terms.epochs);
        vacate(deal, dealId, slot, s);
        registry.unlock(msg.sender, deal.terms.collateral);
        emit SlotReleased(dealId, slot, msg.sender);
    }

    /// @notice Returns the escrow no provider earned to the funder, once the deal is over.
    /// @dev Anyone may call; pays the funder once. Emits {Refunded}.
    function refund(uint256 dealId) external {
        Deal storage deal = dealOf(dealId);
        uint64 endsAt = deal.startBlock + uint64(deal.terms.epochs) * deal.terms.epochBlocks;
        if (block.number < endsAt) revert DealRunning(dealId, endsAt);
        if (deal.refunded) revert AlreadyRefunded(dealId);
        deal.refunded = true;
        uint256 amount = deal.escrow;
        pay(deal, deal.funder, amount);
        emit Refunded(dealId, deal.funder, amount);
    }

    // ---------------------------------------------------------------- views

    /// @notice A deal's terms and state.
    function dealInfo(uint256 dealId) external view returns (Deal memory) {
        return dealOf(dealId);
    }

    /// @notice A slot's provider and the epoch it owes next.
    function slotInfo(uint256 dealId, uint256 slot) external view returns (Slot memory) {
        return slots[dealId][slot];
    }

    /// @notice The epoch the chain is in for a deal (epochs past the deal's end included).
    function epochOf(uint256 dealId) external view returns (uint32) {
        return currentEpoch(dealOf(dealId));
    }

    /// @notice Blocks `[opens, closes)` in which a proof for `epoch` is accepted.
    function proofWindowOf(uint256 dealId, uint32 epoch) external view returns (uint64 opens, uint64 closes) {
        return window(dealOf(dealId), epoch);
    }

    /// @notice The seed of a slot's challenge for `epoch`; readable once the window opens.
    function challengeSeed(uint256 dealId, uint256 slot, uint32 epoch) external view returns (uint256) {
        return seedOf(dealOf(dealId), dealId, slot, epoch);
    }

    // ---------------------------------------------------------------- internals

    function dealOf(uint256 dealId) internal view returns (Deal storage deal) {
        deal = deals[dealId];
        if (deal.funder == address(0)) revert UnknownDeal(dealId);
    }

    function currentEpoch(Deal storage deal) internal view returns (uint32) {
        return uint32((block.number - deal.startBlock) / deal.terms.epochBlocks);
    }

    /// @dev The challenge block is `proofWindow` blocks before the epoch's end; proofs count
    ///      from `finalityDelay` blocks after it until the end.
    function window(Deal storage deal, uint32 epoch) internal view returns (uint64 opens, uint64 closes) {
        closes = deal.startBlock + (uint64(epoch) + 1) * deal.terms.epochBlocks;
        opens = closes - proofWindow + finalityDelay;
    }

    function seedOf(Deal storage deal, uint256 dealId, uint256 slot, uint32 epoch) internal view returns (uint256) {
        (uint64 opens,) = window(deal, epoch);
        uint256 challengeBlock = opens - finalityDelay;
        bytes32 hash = blockhash(challengeBlock);
        // Zero before the block is mined or once it is out of reach: no proof can use it then.
        if (hash == bytes32(0)) revert OutsideWindow(opens, opens - finalityDelay + proofWindow, block.number);
        return uint256(keccak256(abi.encode(hash, dealId, slot, epoch)));
    }

    function vacate(Deal storage deal, uint256 dealId, uint256 slot, Slot storage s) internal {
        inDeal[dealId][s.provider] = false;
        deal.held -= 1;
        delete slots[dealId][slot];
    }

    /// @dev Every token leaving the market goes through here, out of one deal's escrow.
    function pay(Deal storage deal, address to, uint256 amount) internal {
        deal.escrow -= amount;
        token.safeTransfer(to, amount);
    }
}

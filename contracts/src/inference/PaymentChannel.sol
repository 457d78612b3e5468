// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {InferenceErrors} from "./InferenceErrors.sol";

/// @title PaymentChannel
/// @notice One channel per (client, provider), for any of the provider's services. The
///         client deposits and signs EIP-712 vouchers for the CUMULATIVE amount it owes;
///         the provider claims the newest voucher whenever it likes without closing the
///         channel (each claim pays the difference to what was claimed before), so
///         concurrent requests never wait on each other: a voucher only ever raises the
///         total. The client tops up and extends at any time and reclaims what was not
///         claimed once the channel has expired.
/// @dev A voucher names the chain id and this contract (the EIP-712 domain) and the
///      channel id, which is new for every channel a pair opens: a voucher is good for
///      one channel on one contract on one chain, and never pays twice since the total
///      it names is paid at most once. Until the client reclaims, the provider can still
///      claim after expiry: a late claim loses nothing while the client has not acted.
///      Balances: `token.balanceOf(this) == Σ (deposit - claimed)` over open channels.
contract PaymentChannel is EIP712, InferenceErrors {
    using SafeERC20 for IERC20;

    struct Channel {
        address client;
        address provider;
        uint256 deposit; // everything the client put in, ever
        uint256 claimed; // everything paid to the provider, ever
        uint64 expiry; // from then on the client may reclaim
        bool open;
    }

    /// @notice What the client signs: the channel and the total owed on it so far.
    bytes32 public constant VOUCHER_TYPEHASH = keccak256("Voucher(bytes32 channel,uint256 cumulative)");

    IERC20 public immutable token;
    mapping(bytes32 => Channel) internal channels;
    /// @notice The channel a pair has open now (zero when none).
    mapping(address => mapping(address => bytes32)) public channelOf;
    /// @notice How many channels a pair has opened: makes every channel id new.
    mapping(address => mapping(address => uint256)) public opened;
    /// @notice Tokens the contract owes to open channels (deposits not yet claimed or reclaimed).
    uint256 public totalHeld;

    event Opened(bytes32 indexed channel, address indexed client, address indexed provider, uint256 deposit, uint64 expiry);
    event ToppedUp(bytes32 indexed channel, uint256 amount, uint256 deposit, uint64 expiry);
    event Claimed(bytes32 indexed channel, address indexed provider, uint256 cumulative, uint256 paid);
    event Reclaimed(bytes32 indexed channel, address indexed client, uint256 refund);

    constructor(IERC20 token_) EIP712("Commons PaymentChannel", "1") {
        token = token_;
    }

    /// @notice Opens the caller's channel to `provider` with `amount` (an allowance for
    ///         this contract is needed) until `expiry`.
    /// @dev Emits {Opened}. Requires no open channel between the two, a provider other
    ///      than the caller, an expiry in the future and a non-zero amount.
    function open(address provider, uint256 amount, uint64 expiry) external returns (bytes32 id) {
        if (amount == 0) revert ZeroAmount();
        if (provider == address(0) || provider == msg.sender) revert InvalidProvider(provider);
        if (expiry <= block.timestamp) revert ExpiryNotLater(expiry, uint64(block.timestamp));
        bytes32 current = channelOf[msg.sender][provider];
        if (current != bytes32(0)) revert ChannelAlreadyOpen(current);
        uint256 nonce = opened[msg.sender][provider]++;
        id = keccak256(abi.encode(block.chainid, address(this), msg.sender, provider, nonce));
        channels[id] = Channel({client: msg.sender, provider: provider, deposit: 0, claimed: 0, expiry: expiry, open: true});
        channelOf[msg.sender][provider] = id;
        _deposit(id, amount);
        emit Opened(id, msg.sender, provider, amount, expiry);
    }

    /// @notice Adds `amount` (may be zero) to an open channel and moves its expiry to
    ///         `expiry` (never earlier). Only the channel's client.
    /// @dev Emits {ToppedUp}.
    function topUp(bytes32 id, uint256 amount, uint64 expiry) external {
        Channel storage c = _open(id);
        if (msg.sender != c.client) revert NotClient(msg.sender, c.client);
        if (expiry < c.expiry) revert ExpiryNotLater(expiry, c.expiry);
        c.expiry = expiry;
        if (amount > 0) _deposit(id, amount);
        emit ToppedUp(id, amount, c.deposit, expiry);
    }

    /// @notice Pays the provider what a voucher for `cumulative` adds to what was claimed
    ///         on the channel; the channel stays open. Anyone may submit it: the tokens go
    ///         to the provider.
    /// @dev Emits {Claimed}. Requires an open channel, a voucher signed by its client
    ///      over this chain, contract and channel, a total above what was claimed (a
    ///      voucher pays once) and within the deposit.
    function claim(bytes32 id, uint256 cumulative, bytes calldata signature) external {
        Channel storage c = _open(id);
        if (cumulative <= c.claimed) revert VoucherNotNewer(id, cumulative, c.claimed);
        if (cumulative > c.deposit) revert Overspent(id, cumulative, c.deposit);
        address signer = ECDSA.recover(voucherDigest(id, cumulative), signature);
        if (signer != c.client) revert InvalidVoucherSigner(signer, c.client);
        uint256 paid = cumulative - c.claimed;
        c.claimed = cumulative;
        _pay(c.provider, paid);
        emit Claimed(id, c.provider, cumulative, paid);
    }

    /// @notice Closes an expired channel and refunds its client what was not claimed.
    ///         Only the channel's client; the pair may then open a new channel.
    /// @dev Emits {Reclaimed}. A voucher of this channel pays nothing afterwards.
    function reclaim(bytes32 id) external {
        Channel storage c = _open(id);
        if (msg.sender != c.client) revert NotClient(msg.sender, c.client);
        if (block.timestamp < c.expiry) revert NotExpired(id, c.expiry, uint64(block.timestamp));
        uint256 refund = c.deposit - c.claimed;
        c.open = false;
        c.deposit = c.claimed;
        delete channelOf[c.client][c.provider];
        _pay(c.client, refund);
        emit Reclaimed(id, c.client, refund);
    }

    // ---------------------------------------------------------------- views

    /// @notice The EIP-712 digest a client signs for a voucher of `cumulative` on channel `id`.
    function voucherDigest(bytes32 id, uint256 cumulative) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(VOUCHER_TYPEHASH, id, cumulative)));
    }

    /// @notice A channel's record (all zero for an unknown id).
    function channel(bytes32 id) external view returns (Channel memory) {
        return channels[id];
    }

    // ---------------------------------------------------------------- internal

    function _open(bytes32 id) internal view returns (Channel storage c) {
        c = channels[id];
        if (!c.open) revert ChannelNotOpen(id);
    }

    function _deposit(bytes32 id, uint256 amount) internal {
        token.safeTransferFrom(msg.sender, address(this), amount);
        channels[id].deposit += amount;
        totalHeld += amount;
    }

    /// @dev Every token leaving the contract goes through here.
    function _pay(address to, uint256 amount) internal {
        totalHeld -= amount;
        if (amount > 0) token.safeTransfer(to, amount);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {DisputeGameTypes} from "../dispute/DisputeGameTypes.sol";

/// @title InferenceDisputeTypes
/// @notice The vocabulary of a dispute over a generated token (docs/inference.md): the
///         receipt a provider signs, the forward program's header, what a dispute keeps,
///         its events and errors. Phases, reasons, the pinpoint move and the errors of a
///         pinpoint are the training game's (DisputeGameTypes), so both games read alike.
abstract contract InferenceDisputeTypes is DisputeGameTypes {
    /// @notice What a provider signs with every answer (packages/node/src/receipt.ts), as
    ///         EIP-712 struct `Receipt` under the domain ("Commons Receipt", "1", chain id,
    ///         the ServiceRegistry). All fields are static, so abi.encode(TYPEHASH, receipt)
    ///         is its EIP-712 encoding.
    struct Receipt {
        address provider;
        uint256 service; // the ServiceRegistry id it answered as (0: not registered)
        uint64 issuedAt; // seconds (the provider's clock): disputable for the unbonding delay after
        bytes32 modelRoot; // the state root of the weights served
        bytes32 promptHash; // keccak256 of the prompt's token ids, 4 bytes each
        uint32 tokens;
        bool seeded; // false: greedy
        uint64 seed;
        uint32 temperatureBits;
        uint32 topK;
        uint32 topPBits;
        bytes32 outputHash; // keccak256 of the output's token ids, 4 bytes each
        uint256 pricePer1k;
        uint256 cost;
        bytes32 channel;
        uint256 cumulative;
        uint256 spent;
    }

    /// @notice The forward program of a window of `length` tokens (packages/engine/src/
    ///         infer/forwardProgram.ts): its hash keccak256(abi.encode(header)) is leaf
    ///         length − 1 of the service's programs root.
    struct ForwardHeader {
        bytes32 opsRoot; // nodeRoot of keccak256(abi.encode(op)) over the program
        uint32 ops; // the last op picks the token: ARGMAX (greedy) or FINDFIRST (sampled)
        uint32 paramSlots; // P; the model root is a state of 3P slots (params, m, v)
        uint32 length; // tokens in the window
    }

    /// @notice What a challenger brings to open: the signed receipt, the prompt and output
    ///         tokens it hashes, the first wrong token `index` and the program of its window.
    struct Claim {
        uint256 service;
        Receipt receipt;
        bytes signature;
        uint32[] prompt;
        uint32[] output;
        uint32 index;
        ForwardHeader header;
        bytes32[] programProof; // of keccak256(abi.encode(header)) at length − 1
    }

    /// @notice The forward programs a service is disputed by: greedy then sampled, one each per window length 1..count.
    struct Programs {
        bytes32 root;
        uint32 count;
    }

    /// @dev The moves are the training game's: AwaitTrace, AwaitValues and AwaitReveal are
    ///      the provider's, AwaitPinpoint the challenger's.
    struct GenDispute {
        address challenger;
        uint96 bond;
        address provider;
        uint64 deadline;
        uint64 moveTime;
        Phase phase;
        Reason reason;
        uint8 moves;
        uint8 requests; // value requests made (at most MAX_REQUESTS)
        uint8 dtype; // of the pinpointed or requested op's output
        uint32 opsCount;
        uint32 paramSlots;
        uint32 opIndex;
        uint32 expected; // the verifier's value of the pinpointed element
        uint32 claimed; // output[index] of the receipt: the token the provider answered
        uint32 index; // a sampled answer's token index (the sampling counter), else 0
        uint64 seed; // a sampled answer's seed, else 0: with index, the verifier's context
        uint64 element; // pinpointed output element; while AwaitValues, the first requested leaf
        uint64 outputLength;
        uint32 requestedLeaves; // while AwaitValues: how many leaves from `element`
        uint256 service;
        bytes32 modelRoot;
        bytes32 opsRoot;
        bytes32 windowRoot; // tensor root (i32) of the window: the program's tokens input
        bytes32 slotsRoot; // nodeRoot of the 3P slot roots the provider posted
        bytes32 traceRoot;
        bytes32 outputRoot;
    }

    /// @notice What a lost dispute pays back to the client of the disputed answer.
    struct Refund {
        address client; // the receipt's channel's client
        uint96 amount; // the receipt's cost (capped by the stake when paid)
        bytes32 payment; // keccak256(abi.encode(channel, cumulative)): refunded once
    }

    /// @notice A challenger disputes token `index` of an answer of `service`.
    event GenerationDisputed(
        uint256 indexed id,
        uint256 indexed service,
        address indexed challenger,
        uint32 index,
        uint32 claimed,
        uint64 deadline
    );
    /// @notice The paying client of dispute `id`'s answer got its cost back from the provider's stake.
    event ClientRefunded(uint256 indexed id, bytes32 indexed payment, address indexed client, uint256 amount);
    /// @notice The whole claim dispute `id` was opened with: what the provider defends from,
    ///         read from the log, so a dispute opened through another contract is defended too.
    event GenerationClaim(uint256 indexed id, Claim claim);
    /// @notice The provider posted the slot roots of its model and the op trace of the window.
    event GenerationTracePosted(uint256 indexed id, bytes32[] slotRoots, uint256 step, bytes32[] roots);
    /// @notice A service's provider bound the forward programs its answers are disputed by.
    event ProgramsSet(uint256 indexed service, bytes32 root, uint32 count);
    /// @notice Governance set the bond of new disputes, the move time and the treasury.
    event GameParametersSet(uint96 bond, uint64 moveTime, address treasury);

    /// @notice The receipt is signed by `signer`, not by the service's provider.
    error ReceiptSigner(address signer, address provider);
    /// @notice The receipt names another service than the one the dispute is opened on.
    error ReceiptService(uint256 receipt, uint256 service);
    /// @notice The receipt was issued at `issuedAt`; it could be disputed until `until`.
    error ReceiptExpired(uint64 issuedAt, uint256 until);
    /// @notice The receipt is for another model than the service's.
    error ReceiptModel(bytes32 receipt, bytes32 service);
    /// @notice The prompt or the output does not hash to the receipt's.
    error TokensMismatch(bytes32 have, bytes32 want);
    /// @notice Token `index` is not in an output of `length` tokens.
    error IndexPastOutput(uint32 index, uint256 length);
    /// @notice The window has `length` tokens; the program is for `programLength`.
    error WindowLength(uint256 length, uint32 programLength);
    /// @notice Only the service's provider binds its programs.
    error NotServiceProvider(uint256 service, address caller, address provider);
    /// @notice The service bound no programs, or already bound them.
    error ProgramsUnset(uint256 service);
    error ProgramsAlreadySet(uint256 service);
    /// @notice The header does not prove to the service's programs root.
    error HeaderMismatch(bytes32 have, bytes32 want);
}

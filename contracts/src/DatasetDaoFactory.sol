// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {DatasetDao, IDatasetDaoFactory} from "./DatasetDao.sol";
import {DaoGovernance} from "./dao/DaoGovernance.sol";

/// @title DatasetDaoFactory
/// @notice Creates one DatasetDao per dataset, and the forks of those DAOs, and keeps
///         their lineage: every fork records its parent DAO and the head it forked at.
///         Each DAO is a minimal clone (EIP-1167) of one implementation, so creating or
///         forking a DAO costs a few hundred thousand gas instead of a full deployment.
contract DatasetDaoFactory is IDatasetDaoFactory {
    IERC20 public immutable token;
    /// @notice The DAO code every dataset's DAO is a minimal clone of.
    DatasetDao public immutable implementation;
    mapping(address => bool) public isDao;
    address[] public daos;

    event DaoCreated(address indexed dao, string name, bytes head, address indexed parent, bytes forkPoint);

    error NotADao(address caller);
    error NotForking(address caller);

    constructor(IERC20 token_) {
        token = token_;
        implementation = new DatasetDao();
    }

    /// @notice Creates the DAO of a new dataset with its founding members.
    /// @dev Emits {DaoCreated}.
    function createDao(string calldata name, bytes calldata head, address[] calldata members, uint256[] calldata shares, DaoGovernance.Params calldata params)
        external
        returns (DatasetDao dao)
    {
        dao = DatasetDao(payable(Clones.clone(address(implementation))));
        dao.initialize(token, address(0), "", name, head, members, shares, params);
        _record(dao, name, head, address(0), "");
    }

    /// @notice Creates a fork of the calling DAO at its current head, with the members and
    ///         shares of its fork escrow. Only a DAO made here, and only from inside its
    ///         `executeFork`: a DAO's proposals (which make arbitrary calls) cannot create
    ///         "forks" with made-up members or fork points, so the lineage recorded here
    ///         (parent, fork point, members) is always that of a real fork.
    /// @dev Emits {DaoCreated} with the parent and fork point.
    function createFork(string calldata name, bytes calldata head, address[] calldata members, uint256[] calldata shares, DaoGovernance.Params calldata params)
        external
        returns (DatasetDao dao)
    {
        if (!isDao[msg.sender]) revert NotADao(msg.sender);
        // Only executeFork sets this, and it passes the escrow's own members and shares.
        if (!DatasetDao(payable(msg.sender)).forking()) revert NotForking(msg.sender);
        dao = DatasetDao(payable(Clones.clone(address(implementation))));
        dao.initialize(token, msg.sender, head, name, head, members, shares, params);
        _record(dao, name, head, msg.sender, head);
    }

    /// @notice How many DAOs (originals and forks) this factory created.
    function daoCount() external view returns (uint256) {
        return daos.length;
    }

    function _record(DatasetDao dao, string calldata name, bytes calldata head, address parent, bytes memory forkPoint) internal {
        isDao[address(dao)] = true;
        daos.push(address(dao));
        emit DaoCreated(address(dao), name, head, parent, forkPoint);
    }
}
